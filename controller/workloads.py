"""The workload controllers of apps/v1 and batch/v1 that keep pods per node, per ordinal, per run.

One place that wires the DaemonSet, StatefulSet, Job and CronJob controllers onto the
manager's shared informers, so the controller manager registers them with one call. Each runs
when its name ("daemonset", "statefulset", "job", "cronjob") is among the enabled controllers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine
from typing import Any

from api.events import EventRecorder
from api.informer import Informer, InformerFactory
from controller.base import ApiClient
from controller.clock import Clock

NAMES = ("daemonset", "statefulset", "job", "cronjob")


def workload_loops(
    client: ApiClient,
    factory: InformerFactory,
    pods: Informer,
    nodes: Informer,
    enabled: Collection[str],
    recorder: Callable[[str], EventRecorder],
    clock: Clock | None = None,
) -> list[Coroutine[Any, Any, None]]:
    loops: list[Coroutine[Any, Any, None]] = []
    if "daemonset" in enabled or "statefulset" in enabled:
        revisions = factory.informer("controllerrevisions")
        if "daemonset" in enabled:
            from controller.daemonset import DaemonSetController

            ds = DaemonSetController(
                client,
                factory.informer("daemonsets"),
                nodes,
                pods,
                revisions,
                recorder("daemonset-controller"),
                clock,
            )
            loops.append(ds.run())
        if "statefulset" in enabled:
            from controller.statefulset import StatefulSetController

            sts = StatefulSetController(
                client,
                factory.informer("statefulsets"),
                pods,
                revisions,
                recorder("statefulset-controller"),
                clock,
            )
            loops.append(sts.run())
    if "job" in enabled or "cronjob" in enabled:
        jobs = factory.informer("jobs")
        if "job" in enabled:
            from controller.job import JobController

            jc = JobController(client, jobs, pods, recorder("job-controller"), clock)
            loops.append(jc.run())
        if "cronjob" in enabled:
            from controller.cronjob import CronJobController

            cj = CronJobController(
                client, factory.informer("cronjobs"), jobs, recorder("cronjob-controller"), clock
            )
            loops.append(cj.run())
    return loops

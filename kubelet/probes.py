"""Liveness, readiness and startup probes: one task per running container instance.

Timing as Kubernetes defines it (initialDelaySeconds 0, periodSeconds 10, timeoutSeconds 1,
successThreshold 1, failureThreshold 3); the startup probe gates the other two. A probe task
only records verdicts and, when one flips, wakes the pod's worker (`on_change(uid)`): the
worker decides what follows (kill on liveness failure, readiness into the status), so all
actions stay in the one level-triggered sync. One attempt of each kind (exec, httpGet, tcpSocket,
grpc) is `probecheck.run_probe`; a failed one is reported to `on_failure` (the kubelet's Warning
`Unhealthy` event: "Liveness probe failed: <output>").
A new container instance gets fresh verdicts: a restarted container starts unready.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubelet.probecheck import ExecFn, run_probe

log = logging.getLogger(__name__)


@dataclass
class Verdicts:
    started: bool = False
    ready: bool = False
    live_failed: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class ProbeManager:
    def __init__(
        self,
        exec_fn: ExecFn,
        on_change: Callable[[str], None],
        on_failure: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self._exec = exec_fn
        self._on_change = on_change
        self._on_failure = on_failure  # (pod uid, "Liveness" | "Readiness" | "Startup", output): an event
        self._by_container: dict[str, Verdicts] = {}  # container id -> verdicts
        self._owner: dict[str, str] = {}  # container id -> pod uid

    def ensure(self, uid: str, container: dict[str, Any], container_id: str, pod_ip: str) -> Verdicts:
        """Start the probes of a running container instance once; return its current verdicts."""
        v = self._by_container.get(container_id)
        if v is not None:
            return v
        v = Verdicts(started="startupProbe" not in container, ready="readinessProbe" not in container)
        self._by_container[container_id] = v
        self._owner[container_id] = uid
        for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
            if kind in container:
                v.tasks.append(
                    asyncio.create_task(
                        self._run(kind, uid, container, container_id, pod_ip, v), name=f"probe:{kind}"
                    )
                )
        return v

    def verdicts(self, container_id: str) -> Verdicts | None:
        return self._by_container.get(container_id)

    def forget(self, container_ids: set[str]) -> None:
        for cid in container_ids:
            v = self._by_container.pop(cid, None)
            self._owner.pop(cid, None)
            if v:
                for t in v.tasks:
                    t.cancel()

    def forget_pod(self, uid: str) -> None:
        self.forget({cid for cid, owner in self._owner.items() if owner == uid})

    def live_ids(self, uid: str) -> set[str]:
        return {cid for cid, owner in self._owner.items() if owner == uid}

    async def probe_once(
        self, probe: dict[str, Any], container: dict[str, Any], container_id: str, pod_ip: str
    ) -> bool:
        return (await run_probe(probe, container, container_id, pod_ip, self._exec))[0]

    async def _run(
        self, kind: str, uid: str, container: dict[str, Any], container_id: str, pod_ip: str, v: Verdicts
    ) -> None:
        probe = container[kind]
        period = float(probe.get("periodSeconds", 10))
        success_needed = int(probe.get("successThreshold", 1))
        failure_needed = int(probe.get("failureThreshold", 3))
        await asyncio.sleep(float(probe.get("initialDelaySeconds", 0)))
        successes = failures = 0
        while True:
            if kind != "startupProbe" and not v.started:
                await asyncio.sleep(min(period, 1.0))
                continue
            ok, output = await run_probe(probe, container, container_id, pod_ip, self._exec)
            if not ok and self._on_failure is not None:
                self._on_failure(uid, kind[: -len("Probe")].capitalize(), output)
            successes, failures = (successes + 1, 0) if ok else (0, failures + 1)
            changed = False
            if kind == "startupProbe":
                if ok and not v.started:
                    v.started = changed = True
                elif failures >= failure_needed:
                    v.live_failed = changed = True  # a startup failure restarts like liveness
                if v.started:
                    self._on_change(uid)
                    return
            elif kind == "livenessProbe":
                if failures >= failure_needed and not v.live_failed:
                    v.live_failed = changed = True
            elif successes >= success_needed and not v.ready:
                v.ready = changed = True
            elif failures >= failure_needed and v.ready:
                v.ready, changed = False, True
            if changed:
                self._on_change(uid)
            await asyncio.sleep(period)

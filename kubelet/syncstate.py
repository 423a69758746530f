"""The state a pod syncer keeps across syncs, and the few primitives all its parts use.

`PodSyncer` is one object split by what it does (`podsetup`, `containerstart`, `containersync`,
`statusreport`, `sync`), as kube's kubelet spreads one type over kubelet_pods.go,
kubelet_volumes.go and the rest: the parts share this state through `self`, so a call from one to
another costs a method lookup and nothing more (it runs for hundreds of hollow kubelets in one
process). What lives here is what more than one part reads or writes: the node's context, the
statuses last written, the waiting reasons, the termination messages read, the pods being deleted,
and how a container is removed, a pod's grace period read and an event recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.events import EventRecorder
from api.protocol import ApiClient
from api.shapes import PodStatus
from kubelet.containerconfig import CONTAINER_NAME, POD_UID
from kubelet.dns.podconfig import CLUSTER_DOMAIN, HOST_RESOLV_CONF
from kubelet.hooks import Deletions, kill_container
from kubelet.instances import restart_count
from kubelet.podfiles import DISK, PodFiles
from kubelet.podobjects import ObjectSource
from kubelet.probes import ProbeManager
from kubelet.restart import Backoff
from runtime.interface import ContainerInfo, Runtime

# periodic re-sync of a healthy pod: kubelet's --sync-frequency default. What changes in between
# wakes the pod's worker itself (its API object, a container exit seen by the relist, a probe, a
# ConfigMap or Secret it uses): the period only bounds what nothing announces.
RESYNC = 60.0


@dataclass
class SyncContext:
    """What sync_pod needs besides the pod: the node and the cluster's services."""

    node_name: str
    host_ip: str
    data_dir: Path
    services: Callable[[str], list[dict[str, Any]]]  # namespace -> its services
    dns_servers: list[str]
    cluster_domain: str = CLUSTER_DOMAIN
    resolv_conf: str = HOST_RESOLV_CONF  # the node's resolv.conf, for dnsPolicy Default
    files: PodFiles = DISK  # where volume and DNS files go (in memory on a hollow node)


class SyncState:
    """What the parts of `PodSyncer` share; constructed as the syncer."""

    def __init__(
        self,
        runtime: Runtime,
        client: ApiClient,
        ctx: SyncContext,
        probes: ProbeManager,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
        recorder: EventRecorder | None = None,
    ) -> None:
        self.runtime = runtime
        self.recorder = recorder
        self.client = client
        self.ctx = ctx
        self.probes = probes
        self.backoff = backoff or Backoff()
        self.clock = clock
        self._last_status: dict[str, PodStatus] = {}
        self._waiting: dict[tuple[str, str], tuple[str, str]] = {}  # (uid, name) -> (reason, message)
        self._messages: dict[str, str] = {}  # exited container id -> its termination message
        self._deleting = Deletions()
        self.objects = ObjectSource(client)  # the ConfigMaps and Secrets pods use, shared by the node's pods
        # told what a sync has just seen of its pod's containers (the kubelet's PLEG record)
        self.on_observed: Callable[[str, list[ContainerInfo]], None] | None = None

    def _event(self, pod: dict[str, Any], type_: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.record(pod, type_, reason, message)

    def _grace(self, pod: dict[str, Any]) -> float:
        g = pod["metadata"].get("deletionGracePeriodSeconds")
        if g is None:
            g = (pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        return float(g)

    async def _remove_container(
        self,
        c: ContainerInfo,
        grace: float,
        spec: dict[str, Any] | None = None,
        pod: dict[str, Any] | None = None,
        pod_ip: str = "",
    ) -> None:
        if c.state == "running":
            await kill_container(self.runtime, pod, spec, c.id, grace, pod_ip, self._event)
        await self.runtime.remove_container(c.id)
        self.probes.forget({c.id})
        self._messages.pop(c.id, None)
        uid, name = c.labels.get(POD_UID), c.labels.get(CONTAINER_NAME)
        if uid and name:  # its message is reported no more: its file goes with it (an unlink, no thread)
            self.ctx.files.remove_termination_log(self.ctx.data_dir, uid, name, restart_count(c))


class PodNotReady(Exception):
    """The pod cannot go further this sync (its sandbox, a volume, an image, a container's
    config): `retry` says when to try again."""

    def __init__(self, message: str, retry: float, reason: str = "") -> None:
        super().__init__(message)
        self.retry = retry
        self.reason = reason

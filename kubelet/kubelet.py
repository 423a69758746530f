"""The kubelet: watches the pods bound to its node and keeps the runtime in line with them.

Wiring only; the decisions live in `sync` (one pod), `decisions`, `status`, `probes`. Pods
come from an informer on `spec.nodeName=<node>`; every add/update goes to the pod's worker.
A pod that vanishes from the API (force-deleted, or deleted while the kubelet was down) is
torn down. Like the kubelet's generic PLEG, a relist of the runtime every `relist_period`
notices containers that exited on their own and wakes their pod's worker; the first relist
also finds sandboxes of pods that no longer exist and removes them (restart safety).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api import jsonutil
from api.events import WARNING, EventRecorder
from api.informer import DeletedFinalStateUnknown, Informer, InformerFactory, deleted_object
from api.protocol import ApiClient
from kubelet.containerconfig import POD_UID
from kubelet.node import NodeAgent
from kubelet.podfiles import DISK, MemoryFiles
from kubelet.podworkers import PodWorkers, differs_semantically
from kubelet.probes import ProbeManager
from kubelet.restart import Backoff
from kubelet.stats_metrics import PodStartTracker
from kubelet.status import readiness_gates_moved
from kubelet.sync import PodSyncer
from kubelet.syncstate import SyncContext
from runtime.interface import ContainerInfo, Runtime

log = logging.getLogger(__name__)


@dataclass
class KubeletOptions:
    node_name: str
    node_ip: str
    data_dir: Path
    relist_period: float = 1.0
    backoff_initial: float = 10.0
    backoff_max: float = 300.0
    dns_servers: list[str] = field(default_factory=list)  # --cluster-dns
    cluster_domain: str = "cluster.local"
    resolv_conf: str = "/etc/resolv.conf"
    events: bool = True
    event_qps: float = 50.0
    event_burst: int = 100
    files_in_memory: bool = False  # a hollow node: volume and DNS files kept in memory (kubelet.podfiles)


class Kubelet:
    def __init__(
        self,
        client: ApiClient,
        runtime: Runtime,
        node: NodeAgent,
        options: KubeletOptions,
        informers: InformerFactory | None = None,
    ) -> None:
        self.client = client
        self.runtime = runtime
        self.node = node
        self.options = options
        self.informers = informers or InformerFactory(client)
        self.pods: Informer = self.informers.informer(
            "pods", field_selector=f"spec.nodeName={options.node_name}"
        )
        self.services: Informer = self.informers.informer("services")
        self.probes = ProbeManager(self._exec_probe, self._wake, self._unhealthy)
        ctx = SyncContext(
            options.node_name,
            options.node_ip,
            options.data_dir,
            self._services_in,
            options.dns_servers,
            options.cluster_domain,
            options.resolv_conf,
            MemoryFiles() if options.files_in_memory else DISK,
        )
        # the kubelet's event client: eventRecordQPS 50, eventBurst 100, and one write at a time as
        # client-go's broadcaster does (a hundred hollow kubelets in one process must not flood the server)
        self.recorder = (
            EventRecorder(
                client,
                "kubelet",
                options.node_name,
                max_in_flight=1,
                qps=options.event_qps,
                burst=options.event_burst,
            )
            if options.events
            else None
        )
        self.syncer = PodSyncer(
            runtime,
            client,
            ctx,
            self.probes,
            Backoff(options.backoff_initial, options.backoff_max),
            recorder=self.recorder,
        )
        self.workers = PodWorkers(self.syncer.sync)
        # a ConfigMap or Secret changed: the pods that use it sync now (their files follow)
        self.syncer.objects.watches.on_change = self._wake_all
        self.syncer.on_observed = self._observed_by_sync
        self._states: dict[str, tuple[str, str]] = {}  # PLEG: container id -> (pod uid, state)
        self.pod_starts = PodStartTracker()  # kubelet_pod_start_duration_seconds

    def _services_in(self, namespace: str) -> list[dict[str, Any]]:
        return self.services.list(namespace)

    def _wake(self, uid: str) -> None:
        self.workers.wake(uid)

    def _wake_all(self, uids: set[str]) -> None:
        for uid in uids:
            self.workers.wake(uid)

    async def _exec_probe(self, container_id: str, cmd: list[str], timeout: float) -> tuple[int, bytes]:
        result = await self.runtime.exec_sync(container_id, cmd, timeout)
        return result.exit_code, result.stdout + result.stderr

    def _unhealthy(self, uid: str, kind: str, output: str) -> None:
        pod = self.workers.latest(uid)
        if pod is not None and self.recorder is not None:  # repeats fold into one Event's count
            self.recorder.record(pod, WARNING, "Unhealthy", f"{kind} probe failed: {output}")

    # --- informer handlers: enqueue only -------------------------------------------------
    def _on_pod_added(self, pod: dict[str, Any]) -> None:
        self.pod_starts.seen(pod)
        self._enqueue(pod)

    def _on_pod_updated(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.pod_starts.updated(new)
        if differs_semantically(old, new) or readiness_gates_moved(old, new):
            self._enqueue(new)
        else:  # only its status moved (our own report, mostly): the kubelet owns status, no sync
            self.workers.reconcile(new)

    def _enqueue(self, pod: dict[str, Any]) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self.syncer.pod_deleting(pod["metadata"]["uid"])  # a postStart hook in progress gives up
            self.syncer.objects.watches.unregister(pod["metadata"]["uid"])  # going: its watches end
        else:
            self.syncer.objects.watches.register(pod)  # watch the ConfigMaps and Secrets it uses
        self.workers.update(pod)

    def _on_pod_deleted(self, obj: dict[str, Any] | DeletedFinalStateUnknown) -> None:
        pod = deleted_object(obj)
        self.pod_starts.deleted(pod)
        gone = dict(
            pod,
            metadata=dict(
                pod["metadata"], deletionTimestamp=jsonutil.now_str(), deletionGracePeriodSeconds=0
            ),
        )
        self._enqueue(gone)

    # --- PLEG ---------------------------------------------------------------------------
    def _observed_by_sync(self, uid: str, containers: list[ContainerInfo]) -> None:
        """A running container a sync has just seen (and reported) is no news to the next relist:
        the containers it started do not wake the pod for a sync with nothing to do (the kubelet's
        PLEG would: at 500 hollow nodes that was a third of their syncs). Any other state is left
        for the relist to find, as a container that exited at once must be acted on (restarted,
        backed off); and a change after this observation still differs from the record and wakes."""
        for c in containers:
            if c.state == "running":
                self._states[c.id] = (c.labels.get(POD_UID, ""), c.state)

    async def relist(self, first: bool = False) -> None:
        containers = await self.runtime.list_containers()
        # container id -> (pod uid, state): one C-level dict comparison when nothing moved (the common
        # case, every second for every node), the pods of new, changed and vanished containers otherwise
        snapshot = {c.id: (c.labels.get(POD_UID, ""), c.state) for c in containers}
        old = self._states
        if snapshot != old:
            for cid, seen in snapshot.items():
                if seen[0] and old.get(cid) != seen:
                    self.workers.wake(seen[0])
            for cid in old.keys() - snapshot.keys():
                self.workers.wake(old[cid][0])
        self._states = snapshot
        if first:
            await self._remove_orphans({c.labels.get(POD_UID, "") for c in containers})

    async def _remove_orphans(self, container_uids: set[str]) -> None:
        live = {p["metadata"]["uid"] for p in self.pods.list()}
        uids = {s.config.uid for s in await self.runtime.list_sandboxes()} | container_uids
        for uid in sorted(uids - live - {""}):
            log.info("removing sandbox and containers of pod %s, which no longer exists", uid)
            await self.syncer.kill_pod(uid, 0)

    async def run(self) -> None:
        await self.node.register()
        heartbeat = asyncio.create_task(self.node.run(), name="node-heartbeat")
        events = asyncio.create_task(self.recorder.run(), name="events") if self.recorder else None
        self.pods.add_handlers(self._on_pod_added, self._on_pod_updated, self._on_pod_deleted)
        self.informers.start()
        try:
            await self.informers.wait_for_sync()
            await self.relist(first=True)
            while True:
                await asyncio.sleep(self.options.relist_period)
                try:
                    await self.relist()
                except Exception:
                    log.exception("relist failed")
        finally:
            background = [t for t in (heartbeat, events) if t is not None]
            for t in background:
                t.cancel()
            await self.workers.stop()
            await self.syncer.objects.watches.close()
            await self.informers.stop()
            await asyncio.gather(*background, return_exceptions=True)

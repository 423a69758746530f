"""The scheduler's shell: watch pending pods, decide one at a time, bind many at once.

Decisions are serial and synchronous (`framework.schedule` then `_assume`, no await between),
so two decisions never see the same free capacity; the pod is *assumed* onto its node in the
cache before the binding request is sent, and forgotten again if the bind fails. Binds run
concurrently (up to `max_in_flight`), which is what makes hundreds of pods per second
possible. Pods that fit nowhere get a FailedScheduling event and the PodScheduled=False
condition, and are retried with back-off, or at once when a node or a bound pod changes.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

from api import jsonutil
from api.errors import ApiError
from api.events import NORMAL, WARNING, EventRecorder
from api.informer import DeletedFinalStateUnknown, InformerFactory, key_of
from api.procmetrics import scheduling_attempt
from api.selectors import selector_from_map
from api.workqueue import ShutDown, WorkQueue
from controller.base import ApiClient, Obj, meta, unwrap
from controller.scheduler import framework
from controller.scheduler.nodeinfo import NodeInfo, PodInfo, pod_info
from controller.scheduler.plugins import interpodaffinity, podtopologyspread, volumebinding

log = logging.getLogger(__name__)

SCHEDULER_NAME = "default-scheduler"


def _node_view(node: Obj) -> tuple[Any, ...]:
    """What of a node can change a decision (heartbeat timestamps excluded)."""
    st = node.get("status") or {}
    ready = [(c.get("type"), c.get("status")) for c in st.get("conditions") or []]
    return (node.get("spec"), meta(node).get("labels"), st.get("allocatable"), st.get("capacity"), ready)


def responsible_for(pod: Obj) -> bool:
    spec = pod.get("spec") or {}
    return (
        (spec.get("schedulerName") or SCHEDULER_NAME) == SCHEDULER_NAME
        and not spec.get("nodeName")
        and not spec.get("schedulingGates")  # held until the gates' owners remove them all
        and not meta(pod).get("deletionTimestamp")
        and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    )


class Scheduler:
    def __init__(
        self,
        client: ApiClient,
        factory: InformerFactory,
        events: EventRecorder,
        max_in_flight: int = 32,
        rng: random.Random | None = None,
        initial_backoff: float = 1.0,
        max_backoff: float = 10.0,
    ) -> None:
        self.client = client
        self.events = events
        self.rng = rng or random.Random()
        self.rotation = framework.Rotation()  # where the next search through the nodes starts
        self.pending = factory.informer("pods", field_selector="spec.nodeName=")
        self.assigned = factory.informer("pods", field_selector="spec.nodeName!=")
        self.nodes = factory.informer("nodes")
        self.services = factory.informer("services")
        # VolumeBinding: a claim or volume that changes may make a waiting pod fit
        self.claims = factory.informer("persistentvolumeclaims")
        self.volumes = factory.informer("persistentvolumes")
        self.classes = factory.informer("storageclasses")
        self.namespaces = factory.informer("namespaces")  # for affinity terms' namespaceSelector
        # the active queue: the highest spec.priority first (kube's PrioritySort), no preemption
        self.queue: WorkQueue[str] = WorkQueue(initial_backoff, max_backoff, priority=self._priority_of)
        self.node_infos: dict[str, NodeInfo] = {}
        self._live: list[NodeInfo] | None = None
        self.pod_node: dict[str, str] = {}  # pod key -> node, bound or assumed
        self.affinity_nodes: dict[str, NodeInfo] = {}  # nodes running pods with inter-pod terms
        self.assumed: set[str] = set()
        self.unschedulable: set[str] = set()
        self._sem = asyncio.Semaphore(max_in_flight)
        self.bound = 0
        self.pending.add_handlers(self._pending_changed, self._pending_updated)
        self.assigned.add_handlers(self._assigned_changed, self._assigned_updated, self._assigned_deleted)
        self.nodes.add_handlers(self._node_changed, self._node_updated, self._node_deleted)
        for inf in (self.claims, self.volumes):
            inf.add_handlers(
                lambda obj: self.move_all_to_active(), lambda old, new: self.move_all_to_active()
            )

    # cache maintenance
    def _pending_changed(self, pod: Obj) -> None:
        if responsible_for(pod):
            self.queue.add(key_of(pod))

    def _pending_updated(self, old: Obj, new: Obj) -> None:
        # our own PodScheduled=False write comes back as an update: it must not cut the back-off
        # short; only a change that could make the pod fit (spec, labels) does
        if (
            key_of(new) in self.unschedulable
            and old.get("spec") == new.get("spec")
            and meta(old).get("labels") == meta(new).get("labels")
        ):
            return
        self._pending_changed(new)

    def _node_for(self, name: str) -> NodeInfo:
        n = self.node_infos.get(name)
        if n is None:
            n = self.node_infos[name] = NodeInfo(name, {})
            n.ready = False
        return n

    def _assigned_updated(self, old: Obj, new: Obj) -> None:
        # a kubelet's status write changes nothing the cache accounts (node, requests, ports,
        # labels): skip recomputing the pod's footprint, the bulk of a busy scheduler's updates
        key = key_of(new)
        if (
            key not in self.assumed
            and self.pod_node.get(key) == (new.get("spec") or {}).get("nodeName")
            and (new.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and old.get("spec") == new.get("spec")
            and meta(old).get("labels") == meta(new).get("labels")
        ):
            return
        self._assigned_changed(new)

    def _assigned_changed(self, pod: Obj) -> None:
        key = key_of(pod)
        node = (pod.get("spec") or {}).get("nodeName") or ""
        self.assumed.discard(key)
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            self._forget(key)
            self.move_all_to_active()
            return
        old = self.pod_node.get(key)
        if old and old != node:
            self._forget(key)
        self.pod_node[key] = node
        self._place(self._node_for(node), pod_info(key, pod))

    def _assigned_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self._forget(key_of(unwrap(obj)))
        self.move_all_to_active()

    def _forget(self, key: str) -> None:
        node = self.pod_node.pop(key, None)
        self.assumed.discard(key)
        if node is not None and node in self.node_infos:
            self.node_infos[node].remove_pod(key)
            if not self.node_infos[node].placed_terms:
                self.affinity_nodes.pop(node, None)

    def _priority_of(self, key: str) -> int:
        priority = ((self.pending.get(key) or {}).get("spec") or {}).get("priority")
        return priority if isinstance(priority, int) and not isinstance(priority, bool) else 0

    def _namespace_labels(self, name: str) -> dict[str, str]:
        ns = self.namespaces.get(name)
        return dict(meta(ns).get("labels") or {}) if ns is not None else {}

    def _place(self, node: NodeInfo, info: PodInfo) -> None:
        node.add_pod(info)
        if node.placed_terms:  # the nodes a decision checks for placed pods' terms
            self.affinity_nodes[node.name] = node

    def _node_changed(self, node: Obj) -> None:
        self._node_for(meta(node)["name"]).set_node(node)
        self._live = None
        self.move_all_to_active()

    def _node_updated(self, old: Obj, new: Obj) -> None:
        if _node_view(old) != _node_view(new):
            self._node_changed(new)

    def _node_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        name = meta(unwrap(obj)).get("name", "")
        self.node_infos.pop(name, None)
        self.affinity_nodes.pop(name, None)  # its pods' terms go with it
        self._live = None

    def live_nodes(self) -> list[NodeInfo]:
        if self._live is None:
            self._live = [n for n in self.node_infos.values() if n.node]
        return self._live

    def move_all_to_active(self) -> None:
        for k in self.unschedulable:
            self.queue.add(k)
        self.unschedulable.clear()

    def _service_selectors(self, info: PodInfo) -> None:
        ns = meta(info.pod).get("namespace")
        for svc in self.services.list(ns):
            sel = (svc.get("spec") or {}).get("selector")
            if sel:
                s = selector_from_map(sel)
                if s.matches(info.labels):
                    info.service_selectors.append(s)

    # the loop
    async def run(self) -> None:
        await asyncio.gather(
            *(
                i.synced.wait()
                for i in (
                    self.pending,
                    self.assigned,
                    self.nodes,
                    self.services,
                    self.claims,
                    self.volumes,
                    self.classes,
                    self.namespaces,
                )
            )
        )
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                try:
                    key = await self.queue.get()
                except ShutDown:
                    return
                task = await self._schedule_one(key)
                if task is not None:
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        finally:
            self.queue.shutdown()
            for t in tasks:
                t.cancel()

    async def _schedule_one(self, key: str) -> asyncio.Task[None] | None:
        pod = self.pending.get(key)
        if pod is None or not responsible_for(pod) or key in self.pod_node:
            self.queue.forget(key)
            self.queue.done(key)
            return None
        started = time.perf_counter()
        info = pod_info(key, pod)
        self._service_selectors(info)
        result: NodeInfo | framework.FitError
        if volumebinding.claim_names(pod):
            info.volumes = volumebinding.pod_volumes(
                pod, self.claims.get, self.volumes.get, self.classes.get, self.volumes.list
            )
        info.affinity = interpodaffinity.prepare(
            info, self.live_nodes(), list(self.affinity_nodes.values()), self._namespace_labels
        )
        info.spread = podtopologyspread.prepare(info, self.live_nodes())
        if info.volumes is not None and info.volumes.error:  # PreFilter: no node can help
            result = framework.FitError(len(self.live_nodes()), prefilter=info.volumes.error)
        else:
            result = framework.schedule(info, self.live_nodes(), self.rng, self.rotation)
        if isinstance(result, framework.FitError):
            self.unschedulable.add(key)
            scheduling_attempt("unschedulable", time.perf_counter() - started)
            self.queue.done(key)
            self.queue.add_rate_limited(key)
            return asyncio.create_task(self._record_failure(pod, result.message))
        # assume before any await: the next decision already sees this pod on the node
        self.pod_node[key] = result.name
        self.assumed.add(key)
        self._place(result, info)
        await self._sem.acquire()
        return asyncio.create_task(
            self._bind(key, pod, result.name, volumebinding.to_select(info.volumes, result.name), started)
        )

    async def _bind(
        self, key: str, pod: Obj, node: str, claims: list[Obj] | None = None, started: float | None = None
    ) -> None:
        m = meta(pod)
        body = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": m["name"], "namespace": m.get("namespace"), "uid": m.get("uid")},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        try:
            for claim in claims or ():  # PreBind: the provisioner makes the volume on this node
                await self.client.patch(
                    "persistentvolumeclaims",
                    meta(claim)["name"],
                    {"metadata": {"annotations": {volumebinding.SELECTED_NODE: node}}},
                    namespace=m.get("namespace"),
                )
            await self.client.create("pods", body, m.get("namespace"), subresource="binding", name=m["name"])
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if key in self.assumed:
                self._forget(key)
            if isinstance(e, ApiError) and e.code in (404, 409):
                self.queue.forget(key)  # deleted or bound elsewhere meanwhile: nothing to do
            else:
                log.info("binding %s to %s failed: %r", key, node, e)
                if started is not None:
                    scheduling_attempt("error", time.perf_counter() - started)
                self.events.record(pod, WARNING, "FailedScheduling", f"Binding rejected: {e}")
                self.queue.add_rate_limited(key)
        else:
            self.bound += 1
            if started is not None:
                scheduling_attempt("scheduled", time.perf_counter() - started)
            self.queue.forget(key)
            self.events.record(
                pod, NORMAL, "Scheduled", f"Successfully assigned {m.get('namespace')}/{m['name']} to {node}"
            )
        finally:
            self._sem.release()
            self.queue.done(key)

    async def _record_failure(self, pod: Obj, message: str) -> None:
        self.events.record(pod, WARNING, "FailedScheduling", message)
        conds = list((pod.get("status") or {}).get("conditions") or [])
        prev = next((c for c in conds if c.get("type") == "PodScheduled"), None)
        if prev is not None and prev.get("status") == "False" and prev.get("message") == message:
            return
        cond = {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastProbeTime": None,
            "lastTransitionTime": jsonutil.now_str(),
        }
        conds = [c for c in conds if c.get("type") != "PodScheduled"] + [cond]
        m = meta(pod)
        try:
            await self.client.patch(
                "pods",
                m["name"],
                {"status": {"conditions": conds}},
                namespace=m.get("namespace"),
                subresource="status",
            )
        except ApiError as e:
            log.info("pod %s/%s condition not written: %s", m.get("namespace"), m["name"], e)

"""The scheduler's shell: watch pending pods, decide one at a time, bind many at once.

Decisions are serial and synchronous (`framework.schedule` then `cache.assume`, no await
between), so two decisions never see the same free capacity; the pod is *assumed* onto its node
in the cache (cache.py) before the binding request is sent, and forgotten again if the bind
fails. Binds run concurrently (up to `max_in_flight`), which is what makes hundreds of pods per second
possible. Pods that fit nowhere get a FailedScheduling event and the PodScheduled=False
condition, and are retried with back-off, or at once when a node or a bound pod changes.

Such a pod may preempt (preemptor.py, in the same synchronous step): the pod is nominated to the
chosen node in the cache at once (nominator.py: the next decisions count it there), and its
victims are deleted in the background while the pod waits, not retried until those writes are
done; the victims' deletion then brings it back and it takes the node it was nominated to.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

from api.errors import ApiError
from api.events import NORMAL, WARNING, EventRecorder
from api.informer import DeletedFinalStateUnknown, InformerFactory, key_of
from api.procmetrics import scheduling_attempt
from api.selectors import selector_from_map
from api.workqueue import ShutDown, WorkQueue
from controller.base import ApiClient, Obj, meta, unwrap
from controller.scheduler import framework
from controller.scheduler.cache import NodeCache
from controller.scheduler.failure import record_failure
from controller.scheduler.nodeinfo import NodeInfo, PodInfo, pod_info
from controller.scheduler.nominator import Nominator, nominated_node_name
from controller.scheduler.plugins import interpodaffinity, podtopologyspread, volumebinding
from controller.scheduler.preemptor import Decision, Preemptor

log = logging.getLogger(__name__)

SCHEDULER_NAME = "default-scheduler"


def ours(pod: Obj) -> bool:
    return ((pod.get("spec") or {}).get("schedulerName") or SCHEDULER_NAME) == SCHEDULER_NAME


def responsible_for(pod: Obj) -> bool:
    spec = pod.get("spec") or {}
    return (
        ours(pod)
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
        self.budgets = factory.informer("poddisruptionbudgets")  # what preemption spares
        # the active queue: the highest spec.priority first (kube's PrioritySort)
        self.queue: WorkQueue[str] = WorkQueue(initial_backoff, max_backoff, priority=self._priority_of)
        self.unschedulable: set[str] = set()
        self.nominator = Nominator()
        self.cache = NodeCache(self.move_all_to_active, self.nominator.forget)
        self.node_infos = self.cache.node_infos
        self.preemptor = Preemptor(client, events, self.nominator, self.budgets, self.rng, SCHEDULER_NAME)
        self.preempting: set[str] = set()  # pods whose preemption's writes are under way
        self.woken_while_preempting: set[str] = set()  # ... and room appeared meanwhile
        self._sem = asyncio.Semaphore(max_in_flight)
        self.bound = 0
        self.pending.add_handlers(self._pending_added, self._pending_updated, self._pending_deleted)
        c = self.cache
        self.assigned.add_handlers(c.assigned_changed, c.assigned_updated, c.assigned_deleted)
        self.nodes.add_handlers(c.node_changed, c.node_updated, c.node_deleted)
        for inf in (self.claims, self.volumes):
            inf.add_handlers(
                lambda obj: self.move_all_to_active(), lambda old, new: self.move_all_to_active()
            )

    # the pending pods' informer
    def _pending_added(self, pod: Obj) -> None:
        key = key_of(pod)
        if ours(pod):
            self.nominator.observe(key, None, pod, lambda: pod_info(key, pod))
        self._pending_changed(pod)

    def _pending_changed(self, pod: Obj) -> None:
        if responsible_for(pod):
            self.queue.add(key_of(pod))

    def _pending_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self.nominator.forget(key_of(unwrap(obj)))

    def _pending_updated(self, old: Obj, new: Obj) -> None:
        key = key_of(new)
        if ours(new):
            self.nominator.observe(key, old, new, lambda: pod_info(key, new))
        # our own PodScheduled=False write comes back as an update: it must not cut the back-off
        # short; only a change that could make the pod fit (spec, labels) does
        if (
            key in self.unschedulable
            and old.get("spec") == new.get("spec")
            and meta(old).get("labels") == meta(new).get("labels")
        ):
            return
        self._pending_changed(new)

    def _priority_of(self, key: str) -> int:
        priority = ((self.pending.get(key) or {}).get("spec") or {}).get("priority")
        return priority if isinstance(priority, int) and not isinstance(priority, bool) else 0

    def _namespace_labels(self, name: str) -> dict[str, str]:
        ns = self.namespaces.get(name)
        return dict(meta(ns).get("labels") or {}) if ns is not None else {}

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
                    self.budgets,
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
        if pod is None or not responsible_for(pod) or key in self.cache.pod_node:
            self.queue.forget(key)
            self.queue.done(key)
            return None
        if key in self.preempting:  # waits for its preemption's writes (kube's PreEnqueue)
            self.unschedulable.add(key)
            self.woken_while_preempting.add(key)
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
            info, self.cache.live_nodes(), list(self.cache.affinity_nodes.values()), self._namespace_labels
        )
        info.spread = podtopologyspread.prepare(info, self.cache.live_nodes())
        if info.volumes is not None and info.volumes.error:  # PreFilter: no node can help
            result = framework.FitError(len(self.cache.live_nodes()), prefilter=info.volumes.error)
        else:
            nominated = self.node_infos.get(self.nominator.node_of.get(key) or nominated_node_name(pod))
            result = framework.schedule(
                info, self.cache.live_nodes(), self.rng, self.rotation, self.nominator.by_node, nominated
            )
        if isinstance(result, framework.FitError):
            decision = self.preemptor.decide(key, pod, info, result, self.cache.live_nodes())
            if decision.marked:
                self.preempting.add(key)
            self.unschedulable.add(key)
            scheduling_attempt("unschedulable", time.perf_counter() - started)
            self.queue.done(key)
            self.queue.add_rate_limited(key)
            return asyncio.create_task(self._fail(key, pod, result.message, decision))
        # assume before any await: the next decision already sees this pod on the node
        self.cache.assume(key, result, info)
        self.nominator.forget(key)
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
            if key in self.cache.assumed:
                self.cache.forget(key)
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

    async def _fail(self, key: str, pod: Obj, message: str, decision: Decision) -> None:
        """The failure told (event, status) and the preemption's writes, if any. A preempting pod
        then stays unschedulable until room appears (its victims' deletions, as kube's
        AssignedPodDelete event moves it) or its back-off ends; retried at once only when room
        appeared while the writes were under way, since that event found it still waiting."""
        writes = [record_failure(self.client, self.events, pod, message, decision.outcome.nominate)]
        if decision.marked:
            writes.append(self.preemptor.carry_out(pod, decision))
        try:
            for r in await asyncio.gather(*writes, return_exceptions=True):
                if isinstance(r, Exception):
                    log.warning("preemption for %s: %r", key, r)
        finally:
            self.preempting.discard(key)
            if key in self.woken_while_preempting:
                self.woken_while_preempting.discard(key)
                self.unschedulable.discard(key)
                self.queue.add(key)

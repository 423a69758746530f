"""The DaemonSet controller: one pod per eligible node, rolled to new templates node by node.

The I/O shell around `controller.daemonset_decisions`: DaemonSet and node events enqueue
DaemonSets (a node added, relabelled or tainted may change where they run), pod events
enqueue the owner. `sync` records the template as a ControllerRevision (controller.history),
creates the pods the decision asks for (pinned to their node; the scheduler binds them),
deletes the ones it drops, writes the recomputed status and prunes old revisions.
"""

from __future__ import annotations

import asyncio
import logging

from api.conditions import is_ready
from api.errors import ApiError
from api.events import EventRecorder
from api.informer import DeletedFinalStateUnknown, Informer
from api.selectors import selector_from_label_selector
from controller import daemonset_decisions as dd
from controller import history
from controller.base import ApiClient, Obj, QueueController, controller_ref, meta, unwrap
from controller.claim import claim_pods
from controller.clock import Clock, RealClock
from controller.expectations import Expectations

log = logging.getLogger(__name__)

FAILED_BACKOFF_MIN, FAILED_BACKOFF_MAX = 1.0, 900.0  # kube's failedPodsBackoff


class DaemonSetController(QueueController):
    name = "daemonset"

    def __init__(self, client: ApiClient, daemonsets: Informer, nodes: Informer, pods: Informer,
                 revisions: Informer, events: EventRecorder, clock: Clock | None = None, workers: int = 2) -> None:
        super().__init__(workers)
        self.client = client
        self.daemonsets = daemonsets
        self.nodes = nodes
        self.pods = pods
        self.revisions = revisions
        self.events = events
        self.clock = clock or RealClock()
        self.expectations = Expectations(300.0)
        self._backoff: dict[tuple[str, str], tuple[float, float]] = {}  # (ds, node) -> (delay, not before)
        daemonsets.add_handlers(self.enqueue, lambda old, new: self.enqueue(new), self.enqueue)
        nodes.add_handlers(self._node_changed, self._node_updated, self._node_changed)
        pods.add_handlers(self._pod_added, lambda old, new: self._pod_changed(new), self._pod_deleted)

    async def run(self, *informers: Informer) -> None:
        await super().run(self.daemonsets, self.nodes, self.pods, self.revisions, *informers)

    def _all(self) -> None:
        for ds in self.daemonsets.list():
            self.enqueue(ds)

    def _node_changed(self, _: object) -> None:
        self._all()

    def _node_updated(self, old: Obj, new: Obj) -> None:
        # heartbeats change only the status' times: only labels, taints and readiness matter here
        if meta(old).get("labels") != meta(new).get("labels") or old.get("spec") != new.get("spec") or \
                _ready(old) != _ready(new):
            self._all()

    def _key(self, pod: Obj) -> str | None:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "DaemonSet":
            return None
        return f"{meta(pod).get('namespace')}/{ref.get('name')}"

    def _pod_added(self, pod: Obj) -> None:
        key = self._key(pod)
        if key:
            self.expectations.creation_observed(key)
            self.enqueue(key)
        elif controller_ref(pod) is None:
            self._enqueue_matching(pod)

    def _enqueue_matching(self, pod: Obj) -> None:
        """An orphan: the DaemonSets whose selector matches may adopt it."""
        labels = meta(pod).get("labels") or {}
        for ds in self.daemonsets.list(meta(pod).get("namespace")):
            try:
                sel = selector_from_label_selector((ds.get("spec") or {}).get("selector"))
            except ValueError:
                continue
            if sel is not None and not sel.empty() and sel.matches(labels):
                self.enqueue(ds)

    def _pod_changed(self, pod: Obj) -> None:
        key = self._key(pod)
        if key:
            if meta(pod).get("deletionTimestamp"):
                self.expectations.deletion_observed(key, meta(pod).get("uid", ""))
            self.enqueue(key)

    def _pod_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        pod = unwrap(obj)
        key = self._key(pod)
        if key:
            self.expectations.deletion_observed(key, meta(pod).get("uid", ""))
            self.enqueue(key)

    async def sync(self, key: str) -> None:
        ds = self.daemonsets.get(key)
        if ds is None or meta(ds).get("deletionTimestamp"):
            self.expectations.delete(key)
            return
        if not self.expectations.satisfied(key):
            self.queue.add_after(key, 1.0)
            return
        ns = meta(ds).get("namespace")
        revisions = history.owned(ds, self.revisions.list(ns))
        cur, revisions, collision = await history.ensure_revision(self.client, ds, revisions)
        hash_ = (meta(cur).get("labels") or {}).get(history.HASH_LABEL) or history.revision_hash(cur.get("data") or {})
        pods = await claim_pods(self.client, "daemonsets", ds, self.pods.list(ns))
        now = self.clock.now()
        plan = dd.decide(ds, self.nodes.list(), pods, hash_, now)
        mono = asyncio.get_running_loop().time()
        for p in plan.failed:
            node = dd.pinned_node(p) or ""
            self.events.record(ds, "Warning", "FailedDaemonPod",
                               f"Found failed daemon pod {ns}/{meta(p).get('name')} on node {node}, will try to kill it")
            delay, _ = self._backoff.get((key, node), (FAILED_BACKOFF_MIN / 2, 0.0))
            delay = min(FAILED_BACKOFF_MAX, delay * 2)
            self._backoff[(key, node)] = (delay, mono + delay)
        await self._delete(key, ds, plan.delete)
        # a node whose daemon pod keeps failing gets its next one after a growing pause (1 s .. 15 min)
        waits = {n: self._backoff[(key, n)][1] - mono for n in plan.create
                 if (key, n) in self._backoff and self._backoff[(key, n)][1] > mono}
        if waits:
            self.queue.add_after(key, min(waits.values()) + 0.05)
        await self._create(key, ds, [n for n in plan.create if n not in waits], hash_)
        status = dict(plan.status)
        if collision:
            status["collisionCount"] = collision
        if status != (ds.get("status") or {}):
            try:
                await self.client.update("daemonsets", dict(ds, status=status), ns, subresource="status")
            except ApiError as e:
                if e.code == 409:
                    self.queue.add_after(key, 0.05)
                elif e.code != 404:
                    raise
        in_use = {meta(cur).get("name", "")} | {
            meta(r).get("name", "") for r in revisions
            if (meta(r).get("labels") or {}).get(history.HASH_LABEL) in {history.pod_revision(p) for p in pods}}
        await history.prune(self.client, revisions, in_use, (ds.get("spec") or {}).get("revisionHistoryLimit"))
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        if min_ready and status.get("numberAvailable", 0) < status.get("numberReady", 0):
            self.queue.add_after(key, 1.0)  # nothing else happens when pods become available

    async def _delete(self, key: str, ds: Obj, pods: list[Obj]) -> None:
        if not pods:
            return
        self.expectations.expect_deletions(key, [meta(p).get("uid", "") for p in pods])
        for p in pods:
            try:
                await self.client.delete("pods", meta(p)["name"], meta(p).get("namespace"))
                self.events.record(ds, "Normal", "SuccessfulDelete", f"Deleted pod: {meta(p)['name']}")
            except ApiError as e:
                self.expectations.deletion_observed(key, meta(p).get("uid", ""))
                if e.code != 404:
                    raise

    async def _create(self, key: str, ds: Obj, nodes: list[str], hash_: str) -> None:
        if not nodes:
            return
        self.expectations.expect_creations(key, len(nodes))
        ns = meta(ds).get("namespace")
        results = await asyncio.gather(*(self.client.create("pods", dd.pod_for(ds, n, hash_), ns) for n in nodes),
                                       return_exceptions=True)
        failed = 0
        for node, r in zip(nodes, results, strict=True):
            if isinstance(r, BaseException):
                failed += 1
                self.events.record(ds, "Warning", "FailedCreate", f"Error creating: {r}")
            else:
                self.events.record(ds, "Normal", "SuccessfulCreate", f"Created pod: {meta(r).get('name')}")
                log.debug("daemonset %s: pod %s for node %s", key, meta(r).get("name"), node)
        if failed:
            self.expectations.creation_observed(key, failed)
            self.queue.add_rate_limited(key)


def _ready(node: Obj) -> bool:
    return is_ready(node)

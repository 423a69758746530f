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
from api.events import EventRecorder
from api.informer import Informer
from controller import daemonset_decisions as dd
from controller import history
from controller.base import ApiClient, Obj, meta
from controller.claim import claim_pods, owners_matching
from controller.clock import Clock
from controller.podowner import PodOwnerController

log = logging.getLogger(__name__)

FAILED_BACKOFF_MIN, FAILED_BACKOFF_MAX = 1.0, 900.0  # kube's failedPodsBackoff


class DaemonSetController(PodOwnerController):
    name = "daemonset"
    owner_kind = "DaemonSet"

    def __init__(
        self,
        client: ApiClient,
        daemonsets: Informer,
        nodes: Informer,
        pods: Informer,
        revisions: Informer,
        events: EventRecorder,
        clock: Clock | None = None,
        workers: int = 2,
    ) -> None:
        super().__init__(client, daemonsets, pods, (nodes, revisions), events, clock, workers)
        self.daemonsets = daemonsets
        self.nodes = nodes
        self.revisions = revisions
        self._backoff: dict[tuple[str, str], tuple[float, float]] = {}  # (ds, node) -> (delay, not before)
        nodes.add_handlers(self._node_changed, self._node_updated, self._node_changed)
        self.watch_pods()

    def _all(self) -> None:
        for ds in self.daemonsets.list():
            self.enqueue(ds)

    def _node_changed(self, _: object) -> None:
        self._all()

    def _node_updated(self, old: Obj, new: Obj) -> None:
        # heartbeats change only the status' times: only labels, taints and readiness matter here
        if (
            meta(old).get("labels") != meta(new).get("labels")
            or old.get("spec") != new.get("spec")
            or _ready(old) != _ready(new)
        ):
            self._all()

    def orphan_added(self, pod: Obj) -> None:
        for ds in owners_matching(pod, self.daemonsets.list(meta(pod).get("namespace"))):
            self.enqueue(ds)

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
        hash_ = (meta(cur).get("labels") or {}).get(history.HASH_LABEL) or history.revision_hash(
            cur.get("data") or {}
        )
        pods = await claim_pods(self.client, "daemonsets", ds, self.pods.list(ns))
        now = self.clock.now()
        plan = dd.decide(ds, self.nodes.list(), pods, hash_, now)
        mono = asyncio.get_running_loop().time()
        for p in plan.failed:
            node = dd.pinned_node(p) or ""
            self.events.record(
                ds,
                "Warning",
                "FailedDaemonPod",
                f"Found failed daemon pod {ns}/{meta(p).get('name')} on node {node}, will try to kill it",
            )
            delay, _ = self._backoff.get((key, node), (FAILED_BACKOFF_MIN / 2, 0.0))
            delay = min(FAILED_BACKOFF_MAX, delay * 2)
            self._backoff[(key, node)] = (delay, mono + delay)
        await self.delete_pods(key, ds, plan.delete)
        # a node whose daemon pod keeps failing gets its next one after a growing pause (1 s .. 15 min)
        waits = {
            n: self._backoff[(key, n)][1] - mono
            for n in plan.create
            if (key, n) in self._backoff and self._backoff[(key, n)][1] > mono
        }
        if waits:
            self.queue.add_after(key, min(waits.values()) + 0.05)
        await self._create(key, ds, [n for n in plan.create if n not in waits], hash_)
        status = dict(plan.status)
        if collision:
            status["collisionCount"] = collision
        await self.update_status(self.client, "daemonsets", key, ds, status)
        in_use = {meta(cur).get("name", "")} | {
            meta(r).get("name", "")
            for r in revisions
            if (meta(r).get("labels") or {}).get(history.HASH_LABEL)
            in {history.pod_revision(p) for p in pods}
        }
        await history.prune(
            self.client, revisions, in_use, (ds.get("spec") or {}).get("revisionHistoryLimit")
        )
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        if min_ready and status.get("numberAvailable", 0) < status.get("numberReady", 0):
            self.queue.add_after(key, 1.0)  # nothing else happens when pods become available

    async def _create(self, key: str, ds: Obj, nodes: list[str], hash_: str) -> None:
        results = await self.create_pods(key, ds, [dd.pod_for(ds, n, hash_) for n in nodes])
        for node, r in zip(nodes, results, strict=True):
            if not isinstance(r, BaseException):
                log.debug("daemonset %s: pod %s for node %s", key, meta(r).get("name"), node)


def _ready(node: Obj) -> bool:
    return is_ready(node)

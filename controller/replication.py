"""The replication controller: keeps exactly `spec.replicas` active pods per RC (or ReplicaSet).

The I/O shell around `controller.replicas`: handlers enqueue the RC key (and note what the
watch shows of our own writes in `Expectations`); `sync` re-reads both caches, adopts and
releases pods, creates or deletes the difference, and writes the recomputed status. Pods are
matched to their RC by the controller ownerReference's UID, never by name, so an RC deleted
and recreated under the same name never takes the old one's pods. What differs between an RC
and an apps/v1 ReplicaSet (resource, kind, selector form) is three class attributes; the
ReplicaSet controller (`controller.replicaset`) is this class with those overridden.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from api import jsonutil
from api.errors import ApiError
from api.events import NORMAL, WARNING, EventRecorder
from api.informer import DeletedFinalStateUnknown, Informer
from api.selectors import LabelSelector, selector_from_map
from controller import replicas as rs
from controller.base import ApiClient, Obj, QueueController, controller_ref, meta, unwrap
from controller.expectations import Expectations
from controller.podindex import PodsByController

log = logging.getLogger(__name__)

RC_KIND = "ReplicationController"


STATUS_BATCH = 0.2  # seconds: how stale readyReplicas may be while pods keep becoming ready
STATUS_BATCH_PODS = 1000  # ... per this many pods: a sync walks them all, so a big RC folds more


def status_delay(pods: int) -> float:
    """How long a pod's progress may wait to be counted: STATUS_BATCH, stretched for an RC of more
    than STATUS_BATCH_PODS pods so that its syncs cost the same pod checks per second at any size."""
    return STATUS_BATCH * max(1.0, pods / STATUS_BATCH_PODS)


def _only_progress(old: Obj, new: Obj) -> bool:
    """Same labels and owners, not ending: the pod's count and activity for its RC are unchanged."""
    mo, mn = meta(old), meta(new)
    return (
        mo.get("labels") == mn.get("labels")
        and mo.get("ownerReferences") == mn.get("ownerReferences")
        and rs.is_active(old) == rs.is_active(new)
    )


class ReplicationController(QueueController):
    name = "replication"
    plural = "replicationcontrollers"
    kind = RC_KIND

    @staticmethod
    def selector_of(owner: Obj) -> LabelSelector | None:
        """An RC's selector is a plain map, defaulting to the template's labels."""
        spec = owner.get("spec") or {}
        selector_map = spec.get("selector") or ((spec.get("template") or {}).get("metadata") or {}).get(
            "labels"
        )
        return selector_from_map(selector_map) if selector_map else None

    def __init__(
        self,
        client: ApiClient,
        rcs: Informer,
        pods: Informer,
        events: EventRecorder,
        workers: int = 4,
        burst: int = rs.BURST_REPLICAS,
        expectations_ttl: float = 300.0,
        max_in_flight: int = 32,
    ) -> None:
        super().__init__(workers)
        self.client = client
        self.rcs = rcs
        self.pods = pods
        self.events = events
        self.burst = burst
        self.expectations = Expectations(expectations_ttl)
        # bounded, not one batch-wide burst: hundreds of requests queued in a connection pool
        # cost more CPU than they save (measured with httpx's, whose assignment was quadratic)
        self._writes = asyncio.Semaphore(max_in_flight)
        self._sizes: dict[str, int] = {}  # RC key -> pods it owned at its last sync
        self.by_controller = PodsByController(pods)  # before our handlers: they find the pod filed
        rcs.add_handlers(self.enqueue, lambda old, new: self.enqueue(new), self.enqueue)
        pods.add_handlers(self._pod_added, self._pod_updated, self._pod_deleted)

    async def run(self, *informers: Informer) -> None:
        await super().run(self.rcs, self.pods, *informers)

    # handlers: observe our own writes, enqueue owners
    def _rc_for(self, pod: Obj) -> str | None:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != self.kind:
            return None
        key = f"{meta(pod).get('namespace')}/{ref.get('name')}"
        rc = self.rcs.get(key)
        if rc is None or meta(rc).get("uid") != ref.get("uid"):
            return None
        return key

    def _enqueue_matching(self, pod: Obj) -> None:
        labels = meta(pod).get("labels") or {}
        for rc in self.rcs.list(meta(pod).get("namespace")):
            sel = self.selector_of(rc)
            if sel is not None and not sel.empty() and sel.matches(labels):
                self.enqueue(rc)

    def _pod_added(self, pod: Obj) -> None:
        if meta(pod).get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        key = self._rc_for(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self._observed(key)
        elif controller_ref(pod) is None:
            self._enqueue_matching(pod)

    def _observed(self, key: str) -> None:
        """One of our own creations or deletions came back: sync at once when it was the last one
        awaited (the next burst may go out), else fold it with the others (while writes are in
        flight the sync only recounts)."""
        if self.expectations.satisfied(key):
            self.enqueue(key)
        else:
            self.queue.add_after(key, status_delay(self._sizes.get(key, 0)))

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if meta(new).get("deletionTimestamp") and not meta(old).get("deletionTimestamp"):
            self._pod_deleted(new)
            return
        old_key, new_key = self._rc_for(old), self._rc_for(new)
        if old_key and old_key != new_key:
            self.enqueue(old_key)
        if new_key and new_key == old_key and _only_progress(old, new):
            # a binding or a kubelet's status write changes only the RC's ready/available counts:
            # fold a burst of them into one sync (each sync walks all the RC's pods)
            self.queue.add_after(new_key, status_delay(self._sizes.get(new_key, 0)))
        elif new_key:
            self.enqueue(new_key)
        elif controller_ref(new) is None:
            self._enqueue_matching(new)
            if meta(old).get("labels") != meta(new).get("labels"):
                self._enqueue_matching(old)

    def _pod_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        pod = unwrap(obj)
        key = self._rc_for(pod)
        if key is not None:
            self.expectations.deletion_observed(key, meta(pod).get("uid", ""))
            self._observed(key)

    # the reconcile
    async def sync(self, key: str) -> None:
        rc = self.rcs.get(key)
        if rc is None:
            self.expectations.delete(key)
            self._sizes.pop(key, None)
            return
        spec = rc.get("spec") or {}
        selector = self.selector_of(rc)
        if selector is None or selector.empty():
            return
        ns = meta(rc).get("namespace")
        candidates = self.by_controller.candidates(ns or "", meta(rc).get("uid") or "")
        owned, adopt, release = rs.claim(rc, candidates, selector)
        self._sizes[key] = len(owned)
        if adopt:
            owned += [rs.facts_of(p) for p in await self._adopt(rc, [f.pod for f in adopt])]
        for f in release:
            await self._release(rc, f.pod)
        active = [f for f in owned if f.active]
        manage_error: str | None = None
        if self.expectations.satisfied(key) and not meta(rc).get("deletionTimestamp"):
            manage_error = await self._manage(key, rc, active)
        elif not self.expectations.satisfied(key):
            self.queue.add_after(key, self.expectations.ttl)
        # while our own writes are in flight the count is stale anyway: write the status once
        # they are observed (the sync they trigger), not after every intermediate pod event
        if manage_error or self.expectations.satisfied(key):
            await self._write_status(key, rc, active, manage_error)
        if manage_error:  # as kube's worker: the key is retried with back-off (until the pods can be made)
            raise RuntimeError(manage_error)
        min_ready = int(spec.get("minReadySeconds") or 0)
        if min_ready and any(
            f.ready and not rs.is_available(f.pod, min_ready, jsonutil.now()) for f in active
        ):
            self.queue.add_after(key, min_ready)  # nothing else will happen when they become available

    async def _adopt(self, rc: Obj, pods: list[Obj]) -> list[Obj]:
        # the cache may lag: make sure this very RC (same UID) still exists before taking pods
        try:
            fresh = await self.client.get(self.plural, meta(rc)["name"], meta(rc).get("namespace"))
        except ApiError as e:
            if e.code == 404:
                return []
            raise
        if meta(fresh).get("uid") != meta(rc).get("uid") or meta(fresh).get("deletionTimestamp"):
            return []
        adopted = []
        for p in pods:
            refs = [*(meta(p).get("ownerReferences") or []), rs.owner_ref(rc)]
            body = {"metadata": {"ownerReferences": refs, "resourceVersion": meta(p).get("resourceVersion")}}
            try:
                adopted.append(
                    await self.client.patch("pods", meta(p)["name"], body, namespace=meta(p)["namespace"])
                )
            except ApiError as e:
                if e.code not in (404, 409):
                    raise
        return adopted

    async def _release(self, rc: Obj, pod: Obj) -> None:
        uid = meta(rc).get("uid")
        refs = [r for r in meta(pod).get("ownerReferences") or [] if r.get("uid") != uid]
        body = {
            "metadata": {"ownerReferences": refs or None, "resourceVersion": meta(pod).get("resourceVersion")}
        }
        try:
            await self.client.patch("pods", meta(pod)["name"], body, namespace=meta(pod)["namespace"])
        except ApiError as e:
            if e.code not in (404, 409):
                raise

    async def _manage(self, key: str, rc: Obj, active: list[rs.PodFacts]) -> str | None:
        want = int((rc.get("spec") or {}).get("replicas", 1) or 0)
        diff = len(active) - want
        if diff < 0:
            return await self._create(key, rc, min(-diff, self.burst))
        if diff > 0:
            return await self._delete(
                key, rc, rs.pods_to_delete([f.pod for f in active], min(diff, self.burst))
            )
        return None

    async def _create(self, key: str, rc: Obj, n: int) -> str | None:
        self.expectations.expect_creations(key, n)
        body = rs.pod_from_template(rc)
        ns = meta(rc).get("namespace")
        error: str | None = None
        done = 0
        for batch in rs.slow_start_batches(n):
            results = await asyncio.gather(
                *(self._bounded(self.client.create("pods", body, ns)) for _ in range(batch)),
                return_exceptions=True,
            )
            done += batch
            failed = 0
            for r in results:
                if isinstance(r, BaseException):
                    failed += 1
                    error = f"error creating pod: {r}"
                    self.events.record(rc, WARNING, "FailedCreate", f"Error creating: {r}")
                else:
                    self.events.record(rc, NORMAL, "SuccessfulCreate", f"Created pod: {meta(r).get('name')}")
            if failed:
                # the watch will never show these (nor the batches skipped): stop waiting for them
                self.expectations.creation_observed(key, failed + (n - done))
                break
        return error

    async def _delete(self, key: str, rc: Obj, victims: list[Obj]) -> str | None:
        self.expectations.expect_deletions(key, [meta(p).get("uid", "") for p in victims])

        async def one(p: Obj) -> str | None:
            m = meta(p)
            try:
                await self._bounded(self.client.delete("pods", m["name"], m.get("namespace")))
            except ApiError as e:
                self.expectations.deletion_observed(key, m.get("uid", ""))
                if e.code == 404:
                    return None
                self.events.record(rc, WARNING, "FailedDelete", f"Error deleting: {e}")
                return f"error deleting pod: {e}"
            self.events.record(rc, NORMAL, "SuccessfulDelete", f"Deleted pod: {m['name']}")
            return None

        errs = [e for e in await asyncio.gather(*(one(p) for p in victims)) if e]
        return errs[0] if errs else None

    async def _bounded(self, aw: Awaitable[Any]) -> Any:
        async with self._writes:
            return await aw

    async def _write_status(
        self, key: str, rc: Obj, active: list[rs.PodFacts], manage_error: str | None
    ) -> None:
        status = rs.calculate_status(rc, active, manage_error, jsonutil.now())
        if not rs.status_changed(rc.get("status"), status):
            return
        body: dict[str, Any] = dict(rc, status=status)
        try:
            await self.client.update(self.plural, body, meta(rc).get("namespace"), subresource="status")
        except ApiError as e:
            if e.code == 404:
                return
            if e.code == 409:  # the informer will bring the newer RC; sync again then
                self.queue.add_after(key, 0.05)
                return
            raise

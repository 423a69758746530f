"""The shell every controller that creates its own pods shares (DaemonSet, Job).

Such a controller writes pods and must not act on a cache that has not shown them yet, so its
pod handlers feed `Expectations` (a creation or deletion observed) and enqueue the owner named
by the pod's controller reference; its writes record what they expect before they go out and
take back what failed, with the Kubernetes events "SuccessfulCreate", "FailedCreate" and
"SuccessfulDelete". Subclasses set `owner_kind` and may adopt orphans in `orphan_added`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from api.errors import ApiError
from api.events import EventRecorder
from api.informer import DeletedFinalStateUnknown, Informer
from controller.base import ApiClient, Obj, OwnerController, controller_key, controller_ref, meta, unwrap
from controller.clock import Clock
from controller.expectations import Expectations

EXPECTATIONS_TTL = 300.0  # kube's ExpectationsTimeout: a lost watch event stops wedging the owner after this


class PodOwnerController(OwnerController):
    """A queue controller of the pods its `owner_kind` objects create."""

    owner_kind = ""

    def __init__(
        self,
        client: ApiClient,
        owners: Informer,
        pods: Informer,
        watched: Sequence[Informer],
        events: EventRecorder,
        clock: Clock | None,
        workers: int,
    ) -> None:
        super().__init__(client, owners, (pods, *watched), events, clock, workers)
        self.pods = pods
        self.expectations = Expectations(EXPECTATIONS_TTL)

    def watch_pods(self) -> None:
        """Register the pod handlers (last in a subclass' __init__: cached pods are replayed at once)."""
        self.pods.add_handlers(self._pod_added, lambda old, new: self._pod_changed(new), self._pod_deleted)

    def orphan_added(self, pod: Obj) -> None:
        """A pod with no controller appeared; a controller that adopts orphans enqueues the matching owners."""

    def _pod_added(self, pod: Obj) -> None:
        key = controller_key(pod, self.owner_kind)
        if key:
            self.expectations.creation_observed(key)
            self.enqueue(key)
        elif controller_ref(pod) is None:
            self.orphan_added(pod)

    def _pod_changed(self, pod: Obj) -> None:
        key = controller_key(pod, self.owner_kind)
        if key:
            if meta(pod).get("deletionTimestamp"):
                self.expectations.deletion_observed(key, meta(pod).get("uid", ""))
            self.enqueue(key)

    def _pod_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        pod = unwrap(obj)
        key = controller_key(pod, self.owner_kind)
        if key:
            self.expectations.deletion_observed(key, meta(pod).get("uid", ""))
            self.enqueue(key)

    async def delete_pods(self, key: str, owner: Obj, pods: Sequence[Obj]) -> None:
        if not pods:
            return
        self.expectations.expect_deletions(key, [meta(p).get("uid", "") for p in pods])
        for p in pods:
            try:
                await self.client.delete("pods", meta(p)["name"], meta(p).get("namespace"))
                self.events.record(owner, "Normal", "SuccessfulDelete", f"Deleted pod: {meta(p)['name']}")
            except ApiError as e:
                self.expectations.deletion_observed(key, meta(p).get("uid", ""))
                if e.code != 404:
                    raise

    async def create_pods(self, key: str, owner: Obj, bodies: Sequence[Obj]) -> list[Obj | BaseException]:
        """Create `bodies` at once; a failed one is no longer expected and the owner is retried with back-off."""
        if not bodies:
            return []
        self.expectations.expect_creations(key, len(bodies))
        ns = meta(owner).get("namespace")
        results: list[Obj | BaseException] = await asyncio.gather(
            *(self.client.create("pods", body, ns) for body in bodies), return_exceptions=True
        )
        failed = 0
        for r in results:
            if isinstance(r, BaseException):
                failed += 1
                self.events.record(owner, "Warning", "FailedCreate", f"Error creating: {r}")
            else:
                self.events.record(owner, "Normal", "SuccessfulCreate", f"Created pod: {meta(r).get('name')}")
        if failed:
            self.expectations.creation_observed(key, failed)
            self.queue.add_rate_limited(key)
        return results

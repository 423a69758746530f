"""What every control loop shares: the client seam, a keyed work queue and its workers.

A controller's informer handlers only `enqueue` keys; `workers` tasks take a key and call the
controller's `sync(key)`, which re-reads the caches and converges (level-triggered). A sync
that raises is retried with exponential back-off; one that succeeds is forgotten. The client
is anything with `AsyncClient`'s verbs (`api.protocol.ApiClient`), so unit tests pass a fake.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from api.errors import ApiError
from api.events import EventRecorder
from api.informer import DeletedFinalStateUnknown, Informer, key_of
from api.protocol import ApiClient as ApiClient  # re-exported: the controllers type their client with it
from api.requests import MERGE_PATCH
from api.workqueue import ShutDown, WorkQueue
from controller.clock import Clock, RealClock

log = logging.getLogger(__name__)

Obj = dict[str, Any]


def meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def controller_ref(obj: Obj) -> Obj | None:
    """The ownerReference with controller=true, if any."""
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def controller_reference(owner: Obj, api_version: str | None, kind: str | None) -> Obj:
    """The ownerReference a controller puts on what it makes: `owner` is its controller and holds
    up the owner's foreground deletion (blockOwnerDeletion)."""
    m = meta(owner)
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": m.get("name"),
        "uid": m.get("uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_key(obj: Obj, kind: str) -> str | None:
    """The namespace/name queue key of the `kind` object controlling `obj`, if one does."""
    ref = controller_ref(obj)
    if ref is None or ref.get("kind") != kind:
        return None
    return f"{meta(obj).get('namespace')}/{ref.get('name')}"


def unwrap(obj: Obj | DeletedFinalStateUnknown) -> Obj:
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj


async def patch_pod_status(client: ApiClient, pod: Obj, status: Obj, content_type: str = MERGE_PATCH) -> bool:
    """Patch the pod's status through pods/status; False when the pod is gone (404), any other
    refusal raised."""
    m = meta(pod)
    try:
        await client.patch(
            "pods",
            m["name"],
            {"status": status},
            content_type,
            namespace=m.get("namespace"),
            subresource="status",
        )
    except ApiError as e:
        if e.code != 404:
            raise
        return False
    return True


async def run_every(
    period: float, what: str, one_pass: Callable[[], Awaitable[None]], caches: Sequence[Informer] = ()
) -> None:
    """Run `one_pass` every `period` seconds until cancelled, once `caches` have synced (the loops
    that scan their caches on a timer rather than work a queue); a failed pass is logged and the
    next one starts afresh."""
    await asyncio.gather(*(i.synced.wait() for i in caches))
    while True:
        try:
            await one_pass()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.warning("%s pass failed: %r", what, e)
        await asyncio.sleep(period)


class QueueController:
    """A queue of keys and `workers` tasks calling `sync`; subclasses set `name` and `sync`."""

    name = "controller"

    def __init__(self, workers: int = 4, base_delay: float = 0.005, max_delay: float = 60.0) -> None:
        self.queue: WorkQueue[str] = WorkQueue(base_delay, max_delay, name=self.name)
        self.workers = workers

    def enqueue(self, obj: Obj | DeletedFinalStateUnknown | str) -> None:
        self.queue.add(obj if isinstance(obj, str) else key_of(unwrap(obj)))

    async def sync(self, key: str) -> None:
        raise NotImplementedError

    async def write_status(
        self, client: ApiClient, resource: str, obj: Obj, status: Obj, requeue: str = ""
    ) -> Obj | None:
        """Store `status` through /status: the stored object, or None when it is gone. On a conflict
        the cache is behind: with `requeue` (the object's key) that key is synced again shortly and
        None returned; without, the conflict is raised (the sync is retried with back-off)."""
        try:
            return dict(
                await client.update(
                    resource, dict(obj, status=status), meta(obj).get("namespace"), subresource="status"
                )
            )
        except ApiError as e:
            if e.code == 409 and requeue:
                self.queue.add_after(requeue, 0.05)
            elif e.code != 404:
                raise
            return None

    async def update_status(self, client: ApiClient, resource: str, key: str, obj: Obj, status: Obj) -> None:
        """Store a recomputed status if it differs from the cached one (`write_status`, requeueing `key`)."""
        if status != (obj.get("status") or {}):
            await self.write_status(client, resource, obj, status, requeue=key)

    async def run(self, *informers: Informer) -> None:
        """Wait for the caches, then work until cancelled."""
        await asyncio.gather(*(i.synced.wait() for i in informers))
        tasks = [asyncio.create_task(self._worker(), name=f"{self.name}-worker") for _ in range(self.workers)]
        try:
            await asyncio.gather(*tasks)
        finally:
            self.queue.shutdown()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                failures = self.queue.num_requeues(key)
                await self.sync(key)
                if self.queue.num_requeues(key) == failures:  # a sync that asked for back-off keeps it
                    self.queue.forget(key)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.info("%s: sync %s failed (retry %d): %r", self.name, key, self.queue.num_requeues(key), e)
                self.queue.add_rate_limited(key)
            finally:
                self.queue.done(key)


class OwnerController(QueueController):
    """A queue controller of one kind (`owners`, each enqueued on any change of its own) that reads
    the `watched` caches too, writes through `client`, records `events` and tells time by `clock`.
    Subclasses keep their informers under their own names and add the handlers of the watched ones."""

    def __init__(
        self,
        client: ApiClient,
        owners: Informer,
        watched: Sequence[Informer],
        events: EventRecorder,
        clock: Clock | None,
        workers: int,
    ) -> None:
        super().__init__(workers)
        self.client = client
        self.events = events
        self.clock = clock or RealClock()
        self.caches = (owners, *watched)  # what `run` waits for
        owners.add_handlers(self.enqueue, lambda old, new: self.enqueue(new), self.enqueue)

    async def run(self, *informers: Informer) -> None:
        await super().run(*self.caches, *informers)

"""Informers: a local, watched copy of one resource, and a factory sharing them.

Every control loop reads its world from these caches, never from the API server: list once,
then watch from the list's resourceVersion, resume from the last revision seen after a dropped
stream, and relist on 410 Gone (the revision was compacted). A relist compares the new list
with the cache and reports objects that vanished meanwhile as deletes of a
`DeletedFinalStateUnknown` tombstone (the final state was missed), as client-go does.
Handlers are called synchronously on the informer's task and must only enqueue keys.
Assumes a client with `list(resource, namespace, label_selector=, field_selector=)` and
`watch(...)` yielding `{"type", "object"}` dicts, as `api.aclient.AsyncClient` has.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from api.errors import ApiError
from api.selectors import LabelSelector

if TYPE_CHECKING:  # the resources table is for the informers of custom kinds only
    from api.resources import Resource

log = logging.getLogger(__name__)
YIELD_EVERY = 64  # watch events handled between two turns of the event loop

Obj = dict[str, Any]


class ListWatchClient(Protocol):
    async def list(self, r: Any, namespace: str | None = None, **kw: Any) -> Any: ...

    def watch(self, r: Any, namespace: str | None = None, **kw: Any) -> AsyncIterator[dict[str, Any]]: ...


@dataclass(frozen=True)
class DeletedFinalStateUnknown:
    """A delete noticed only at relist: `obj` is the last state the cache saw."""

    key: str
    obj: Obj


def key_of(obj: Obj) -> str:
    """`namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc)."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))


def split_key(key: str) -> tuple[str | None, str]:
    ns, sep, name = key.partition("/")
    return (ns, name) if sep else (None, key)


def deleted_object(x: Obj | DeletedFinalStateUnknown) -> Obj:
    return x.obj if isinstance(x, DeletedFinalStateUnknown) else x


@dataclass
class Handlers:
    on_add: Callable[[Obj], None] | None = None
    on_update: Callable[[Obj, Obj], None] | None = None
    on_delete: Callable[[Obj | DeletedFinalStateUnknown], None] | None = None


class Cache:
    """Objects by key, indexed by namespace, by label pair and by UID."""

    def __init__(self) -> None:
        self.items: dict[str, Obj] = {}
        self._by_ns: dict[str, set[str]] = {}
        self._by_label: dict[tuple[str, str], set[str]] = {}
        self._by_uid: dict[str, str] = {}

    def get(self, key: str) -> Obj | None:
        return self.items.get(key)

    def get_by_uid(self, uid: str) -> Obj | None:
        k = self._by_uid.get(uid)
        return self.items.get(k) if k else None

    def put(self, key: str, obj: Obj) -> Obj | None:
        old = self.items.get(key)
        if old is not None:
            self._unindex(key, old)
        self.items[key] = obj
        meta = obj.get("metadata") or {}
        self._by_ns.setdefault(meta.get("namespace") or "", set()).add(key)
        for kv in (meta.get("labels") or {}).items():
            self._by_label.setdefault(kv, set()).add(key)
        if meta.get("uid"):
            self._by_uid[meta["uid"]] = key
        return old

    def remove(self, key: str) -> Obj | None:
        old = self.items.pop(key, None)
        if old is not None:
            self._unindex(key, old)
        return old

    def _unindex(self, key: str, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        _discard(self._by_ns, meta.get("namespace") or "", key)
        for kv in (meta.get("labels") or {}).items():
            _discard(self._by_label, kv, key)
        if self._by_uid.get(meta.get("uid") or "") == key:
            del self._by_uid[meta["uid"]]

    def list(self, namespace: str | None = None, selector: LabelSelector | None = None) -> list[Obj]:
        """Objects in `namespace` (all when None) matching `selector`, narrowed by the label index."""
        keys: Iterable[str] | None = None
        if selector is not None:
            for r in selector.requirements:
                if r.op == "=" or (r.op == "in" and len(r.values) == 1):
                    keys = self._by_label.get((r.key, r.values[0]), set())
                    break
        if namespace is not None:
            in_ns = self._by_ns.get(namespace, set())
            keys = in_ns if keys is None else (k for k in keys if k in in_ns)
        objs = [self.items[k] for k in keys] if keys is not None else list(self.items.values())
        if selector is not None and not selector.empty():
            objs = [o for o in objs if selector.matches((o.get("metadata") or {}).get("labels"))]
        return objs


def _discard(index: dict[Any, set[str]], k: Any, key: str) -> None:
    s = index.get(k)
    if s is not None:
        s.discard(key)
        if not s:
            del index[k]


class Informer:
    def __init__(
        self,
        client: ListWatchClient,
        resource: str | Resource,
        namespace: str | None = None,
        field_selector: str | None = None,
        label_selector: str | None = None,
        resync_period: float = 0.0,
        retry_delay: float = 0.5,
        watch_timeout: int = 300,
        max_retry_delay: float | None = None,
    ) -> None:
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.field_selector = field_selector
        self.label_selector = label_selector
        self.resync_period = resync_period
        self.retry_delay = retry_delay
        # after failures in a row the wait doubles up to this (client-go's backoff manager);
        # by default it stays at retry_delay: a control loop wants its cache back at once
        self.max_retry_delay = retry_delay if max_retry_delay is None else max_retry_delay
        self.watch_timeout = watch_timeout
        self.cache = Cache()
        self.synced = asyncio.Event()
        self.settled = asyncio.Event()  # synced, or the first attempt failed: readers need not wait
        self._stopping = False
        self.resource_version = ""
        self._handlers: list[Handlers] = []

    def add_handlers(
        self,
        on_add: Callable[[Obj], None] | None = None,
        on_update: Callable[[Obj, Obj], None] | None = None,
        on_delete: Callable[[Obj | DeletedFinalStateUnknown], None] | None = None,
    ) -> None:
        """Register handlers; objects already cached are replayed to `on_add`, as client-go does."""
        h = Handlers(on_add, on_update, on_delete)
        self._handlers.append(h)
        if on_add is not None:
            for obj in list(self.cache.items.values()):
                on_add(obj)

    # read side
    def get(self, key: str) -> Obj | None:
        return self.cache.get(key)

    def list(self, namespace: str | None = None, selector: LabelSelector | None = None) -> list[Obj]:
        return self.cache.list(namespace, selector)

    def has_synced(self) -> bool:
        return self.synced.is_set()

    def stop(self) -> None:
        """End `run` at its next step: no list or watch after the one in progress; the cache stays
        (a handler may call it: an object that cannot change needs no watch)."""
        self._stopping = True

    # the loop
    async def run(self) -> None:
        resync = asyncio.create_task(self._resync_loop()) if self.resync_period > 0 else None
        try:
            need_list, delay = True, self.retry_delay
            while True:
                try:
                    if need_list:
                        await self._relist()
                        need_list = False
                    if self._stopping:
                        return
                    need_list = await self._watch()
                    delay = self.retry_delay
                    continue
                except asyncio.CancelledError:
                    raise
                except ApiError as e:
                    need_list = e.code == 410 or need_list
                    log.info("%s informer: %s; retrying", self.resource, e)
                except Exception as e:  # connection refused/reset: resume from the last revision
                    log.info("%s informer: %r; retrying", self.resource, e)
                self.settled.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_retry_delay)
        finally:
            if resync is not None:
                resync.cancel()

    async def _relist(self) -> None:
        kw: dict[str, Any] = {}
        if self.field_selector:
            kw["field_selector"] = self.field_selector
        if self.label_selector:
            kw["label_selector"] = self.label_selector
        listed = await self.client.list(self.resource, self.namespace, **kw)
        self.resource_version = str((listed.get("metadata") or {}).get("resourceVersion") or "")
        kind = listed.get("kind", "")
        kind = kind[:-4] if kind.endswith("List") else kind
        seen: set[str] = set()
        for obj in listed.get("items") or []:
            if kind:
                obj.setdefault("kind", kind)
                obj.setdefault("apiVersion", listed.get("apiVersion", "v1"))
            key = key_of(obj)
            seen.add(key)
            self._apply("MODIFIED", key, obj)
        for key in [k for k in self.cache.items if k not in seen]:
            old = self.cache.remove(key)
            if old is not None:
                self._dispatch_delete(DeletedFinalStateUnknown(key, old))
        self.synced.set()
        self.settled.set()

    async def _watch(self) -> bool:
        """Follow the watch; True when a relist is needed (410), False to resume."""
        # client-go's reflector: a random timeout in [min, 2*min), so that the watches of many
        # clients started together (hundreds of nodes joining) do not all end and resume together
        kw: dict[str, Any] = {
            "resource_version": self.resource_version or None,
            "timeout_seconds": int(self.watch_timeout * (1 + random.random())),
        }
        if self.field_selector:
            kw["field_selector"] = self.field_selector
        if self.label_selector:
            kw["label_selector"] = self.label_selector
        handled = 0
        async for ev in self.client.watch(self.resource, self.namespace, **kw):
            handled += 1
            if handled % YIELD_EVERY == 0:
                # a backlog read in one go would otherwise run every handler of thousands of events
                # without a pause: let the rest of the loop (an in-process server's requests) in
                await asyncio.sleep(0)
            typ = ev.get("type")
            obj = ev.get("object") or {}
            if typ == "ERROR":
                code = int(obj.get("code") or 0)
                if code == 410:
                    return True
                raise ApiError(code or 500, str(obj.get("reason") or ""), str(obj.get("message") or ""))
            rv = (obj.get("metadata") or {}).get("resourceVersion")
            if rv:
                self.resource_version = str(rv)
            if typ == "BOOKMARK":
                continue
            self._apply(str(typ), key_of(obj), obj)
            if self._stopping:
                break
        return False

    def _apply(self, typ: str, key: str, obj: Obj) -> None:
        if typ == "DELETED":
            old = self.cache.remove(key)
            self._dispatch_delete(obj if obj.get("metadata") else (old or obj))
            return
        old = self.cache.put(key, obj)
        if old is None:
            for h in self._handlers:
                if h.on_add is not None:
                    h.on_add(obj)
        else:
            old_rv = (old.get("metadata") or {}).get("resourceVersion")
            if old_rv is not None and old_rv == (obj.get("metadata") or {}).get("resourceVersion"):
                return  # a relist of an unchanged object is not news
            for h in self._handlers:
                if h.on_update is not None:
                    h.on_update(old, obj)

    def _dispatch_delete(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        for h in self._handlers:
            if h.on_delete is not None:
                h.on_delete(obj)

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync_period)
            for obj in list(self.cache.items.values()):
                for h in self._handlers:
                    if h.on_update is not None:
                        h.on_update(obj, obj)


class InformerFactory:
    """One informer per (resource, namespace, field selector), so each is watched once."""

    def __init__(self, client: ListWatchClient, resync_period: float = 0.0) -> None:
        self.client = client
        self.resync_period = resync_period
        self._informers: dict[tuple[str, str | None, str | None], Informer] = {}
        self._tasks: dict[tuple[str, str | None, str | None], asyncio.Task[None]] = {}

    def informer(
        self, resource: str, namespace: str | None = None, field_selector: str | None = None
    ) -> Informer:
        k = (resource, namespace, field_selector)
        inf = self._informers.get(k)
        if inf is None:
            inf = self._informers[k] = Informer(
                self.client, resource, namespace, field_selector, resync_period=self.resync_period
            )
        return inf

    def start(self) -> None:
        """Start every informer not yet running (informers made later need another start)."""
        for k, inf in self._informers.items():
            if k not in self._tasks:
                self._tasks[k] = asyncio.create_task(inf.run(), name=f"informer:{k[0]}")

    async def wait_for_sync(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(asyncio.gather(*(i.synced.wait() for i in self._informers.values())), timeout)

    async def run_with(self, *loops: Coroutine[Any, Any, Any]) -> None:
        """Start the informers and run `loops` beside them until they end, one fails, or this is
        cancelled; then cancel the others and stop the informers (how every component runs)."""
        self.start()
        tasks = [asyncio.create_task(c) for c in loops]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.stop()

    async def stop(self) -> None:
        for t in self._tasks.values():
            t.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()

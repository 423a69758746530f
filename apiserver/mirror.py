"""An in-memory copy of the objects under one store prefix, kept current by a watch.

What the API server itself must consult on a request path without a store read (which
namespaces accept creates, which RBAC rules apply) is mirrored here: list once, watch from that
revision, relist when the watch drops or is compacted away. `on_change(key, value)` sees every
change (`None` for a removal) on the mirror's task; the server's own writes can be fed in at
once with `note` so that the very next request sees them (another server's arrive by watch).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from apiserver.storage.interface import Store

log = logging.getLogger(__name__)

OnChange = Callable[[str, bytes | None], None]
T = TypeVar("T")


class StoreMirror:
    def __init__(
        self, store: Store, prefix: str, on_change: OnChange, on_relist: Callable[[], None] | None = None
    ):
        self.store = store
        self.prefix = prefix
        self.on_change = on_change
        self.on_relist = on_relist
        self.synced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def note(self, key: str, value: bytes | None) -> None:
        self.on_change(key, value)

    async def _relist(self) -> int:
        revision, kvs = await self.store.list(self.prefix)
        if self.on_relist is not None:
            self.on_relist()
        for kv in kvs:
            self.on_change(kv.key, kv.value)
        self.synced.set()
        return revision

    async def start(self) -> None:
        self._task = asyncio.create_task(self._follow(await self._relist()))

    async def _follow(self, revision: int) -> None:
        while True:
            try:
                watcher = await self.store.watch(self.prefix, revision)
                try:
                    async for ev in watcher:
                        self.on_change(ev.key, None if ev.type == "DELETED" else ev.value)
                        revision = ev.revision
                finally:
                    await watcher.close()
                revision = await self._relist()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # dropped, compacted, store trouble: start over from a listing
                log.info("mirror of %s relists: %s", self.prefix, e)
                await asyncio.sleep(1)
                with contextlib.suppress(Exception):
                    revision = await self._relist()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None


class ParsedMirror(Generic[T]):
    """The objects under a prefix, each kept as what an admission reads of it (`parse`), by the
    rest of its key ("name" or "namespace/name"). A miss may be another server's write not yet
    arrived: `read` confirms it in the store."""

    def __init__(self, store: Store, prefix: str, parse: Callable[[bytes], T]) -> None:
        self.store = store
        self.prefix = prefix
        self.parse = parse
        self.items: dict[str, T] = {}
        # namespaced kinds: namespace -> name -> item, so that a pod create asks one namespace's
        # LimitRanges or quotas without walking every namespace's
        self.by_namespace: dict[str, dict[str, T]] = {}
        self.mirror = StoreMirror(store, prefix, self.note, self._clear)

    def _clear(self) -> None:
        self.items.clear()
        self.by_namespace.clear()

    def note(self, key: str, value: bytes | None) -> None:
        """A change seen by the watch, or written by this server (fed in at once)."""
        name = key[len(self.prefix) :]
        namespace, _, short = name.rpartition("/")
        if value is None:
            self.items.pop(name, None)
            if namespace and (group := self.by_namespace.get(namespace)) is not None:
                group.pop(short, None)
                if not group:
                    del self.by_namespace[namespace]
        else:
            self.items[name] = parsed = self.parse(value)
            if namespace:
                self.by_namespace.setdefault(namespace, {})[short] = parsed

    async def read(self, name: str) -> T | None:
        """The object from the store itself, None when it does not exist."""
        kv = await self.store.get(self.prefix + name)
        return None if kv is None else self.parse(kv.value)

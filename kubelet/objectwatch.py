"""The ConfigMaps and Secrets a node's pods use, each kept by a watch of that one object.

Fetching them at every pod sync made GETs of the same few objects (every pod's
`kube-root-ca.crt`) a quarter of the API server's work at scale. The real kubelet's default
`configMapAndSecretChangeDetectionStrategy` is `Watch`: for each object the node's pods refer
to it runs a reflector on that one object (list and watch in its namespace with field selector
`metadata.name=<name>`), reads come from that local copy, and the watch lives while some pod
refers to the object (counted as pods are registered and unregistered). An object marked
`immutable: true` is fetched once and not watched after: it cannot change. kubelite does the
same here; the API server's node authorizer allows exactly such one-name lists and watches, and
its watch fan-out indexes them by name, so a ConfigMap event costs one lookup, not one per node.

A read waits (up to `sync_timeout`) for the first list of a new watch; when the object is not
registered, or its watch has not synced (refused, failing), the caller falls back to a GET, so
nothing is worse than before. A change seen after the first sync wakes the pods that use the
object (`on_change`): mounted files follow an update at once instead of at the next periodic
sync.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any

from api.errors import ApiError
from api.podrefs import CONFIGMAPS, SECRETS, references
from api.protocol import ApiClient

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Key = tuple[str, str, str]  # (resource, namespace, name)
WATCHED = (CONFIGMAPS, SECRETS)


def watched_keys(pod: Obj) -> frozenset[Key]:
    """The (resource, namespace, name) of every ConfigMap and Secret the pod refers to (pure)."""
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    refs = references(pod)
    return frozenset((resource, namespace, name) for resource in WATCHED for name in refs[resource])


def is_immutable(obj: Obj | None) -> bool:
    return obj is not None and obj.get("immutable") is True


def version(obj: Obj | None) -> str | None:
    """What tells two states of the object apart: its resourceVersion (None when absent)."""
    return None if obj is None else str((obj.get("metadata") or {}).get("resourceVersion") or "")


class _Watched:
    """One object's local copy and the pods (UIDs) that use it."""

    def __init__(self, key: Key) -> None:
        self.key = key
        self.users: set[str] = set()
        self.obj: Obj | None = None
        self.synced = False  # listed at least once: `obj` is the object as the server has it
        self.settled = asyncio.Event()  # synced, or the first attempt failed: readers stop waiting
        self.task: asyncio.Task[None] | None = None


class ObjectWatches:
    """Reference-counted one-object watches of the ConfigMaps and Secrets the node's pods use."""

    def __init__(
        self,
        client: ApiClient,
        on_change: Callable[[set[str]], None] | None = None,
        sync_timeout: float = 2.0,
        retry_delay: float = 0.5,
        max_retry_delay: float = 30.0,
        watch_timeout: int = 300,
    ) -> None:
        self.client = client
        self.on_change = on_change  # pod UIDs whose object changed after its first sync
        self.sync_timeout = sync_timeout
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.watch_timeout = watch_timeout
        self._objects: dict[Key, _Watched] = {}
        self._by_pod: dict[str, frozenset[Key]] = {}

    # --- references: called by the pod informer's handlers, so only bookkeeping and task starts
    def register(self, pod: Obj) -> None:
        """Watch what the pod (added or updated) uses; release what it no longer uses."""
        uid = str((pod.get("metadata") or {}).get("uid") or "")
        if not uid:
            return
        keys, old = watched_keys(pod), self._by_pod.get(uid, frozenset())
        if keys == old:
            return
        for key in keys - old:
            watched = self._objects.get(key)
            if watched is None:
                watched = self._objects[key] = _Watched(key)
                watched.task = asyncio.create_task(self._reflect(watched), name=f"watch:{'/'.join(key)}")
            watched.users.add(uid)
        for key in old - keys:
            self._release(key, uid)
        if keys:
            self._by_pod[uid] = keys
        else:
            self._by_pod.pop(uid, None)

    def unregister(self, uid: str) -> None:
        """The pod is going or gone: its references end, and a watch nobody else needs stops."""
        for key in self._by_pod.pop(uid, frozenset()):
            self._release(key, uid)

    def _release(self, key: Key, uid: str) -> None:
        watched = self._objects.get(key)
        if watched is None:
            return
        watched.users.discard(uid)
        if not watched.users:
            del self._objects[key]
            if watched.task is not None:
                watched.task.cancel()

    def watching(self) -> dict[Key, set[str]]:
        """Each watched object and its users (for tests and debugging)."""
        return {key: set(w.users) for key, w in self._objects.items()}

    # --- reads
    async def read(self, resource: str, namespace: str, name: str) -> tuple[bool, Obj | None]:
        """(True, the object or None when it does not exist) from its watch; (False, None) when it is
        not watched or its watch has not synced in time: the caller GETs it instead."""
        watched = self._objects.get((resource, namespace, name))
        if watched is None:
            return False, None
        if not watched.settled.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.sync_timeout):
                    await watched.settled.wait()
        return (True, watched.obj) if watched.synced else (False, None)

    async def close(self) -> None:
        tasks = [w.task for w in self._objects.values() if w.task is not None]
        self._objects.clear()
        self._by_pod.clear()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- the reflector of one object
    async def _reflect(self, watched: _Watched) -> None:
        """List, then watch from the list's revision; resume after a dropped stream, relist on 410,
        back off after errors (a refused watch is retried slowly; readers GET meanwhile)."""
        delay, revision = self.retry_delay, ""
        while True:
            try:
                if not revision:
                    revision = await self._list(watched)
                if is_immutable(watched.obj):
                    return  # it cannot change: the copy stands while pods use it, with no watch
                revision = await self._follow(watched, revision)
                delay = self.retry_delay
            except asyncio.CancelledError:
                raise
            except Exception as e:  # refused, or the connection failed: keep the copy, try again
                watched.settled.set()
                log.info("watch of %s: %r; retrying in %.1fs", "/".join(watched.key), e, delay)
                await asyncio.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, self.max_retry_delay)

    def _selector(self, watched: _Watched) -> str:
        return f"metadata.name={watched.key[2]}"

    async def _list(self, watched: _Watched) -> str:
        resource, namespace, _ = watched.key
        listed = await self.client.list(resource, namespace, field_selector=self._selector(watched))
        items = listed.get("items") or []
        obj = items[0] if items else None
        if obj is not None:  # as a GET answers it: list items carry no kind
            kind = str(listed.get("kind") or "")
            obj.setdefault("kind", kind[:-4] if kind.endswith("List") else kind)
            obj.setdefault("apiVersion", listed.get("apiVersion") or "v1")
        self._observe(watched, obj)
        return str((listed.get("metadata") or {}).get("resourceVersion") or "")

    async def _follow(self, watched: _Watched, revision: str) -> str:
        """Apply the watch's events; the revision to resume from when the stream ends, "" to relist."""
        resource, namespace, _ = watched.key
        # a random timeout in [t, 2t), as client-go's reflector: watches started together end apart
        timeout = int(self.watch_timeout * (1 + random.random()))
        async for ev in self.client.watch(
            resource,
            namespace,
            field_selector=self._selector(watched),
            resource_version=revision,
            timeout_seconds=timeout,
        ):
            typ, obj = ev.get("type"), ev.get("object") or {}
            if typ == "ERROR":
                code = int(obj.get("code") or 0)
                if code == 410:
                    return ""
                raise ApiError(code or 500, str(obj.get("reason") or ""), str(obj.get("message") or ""))
            revision = str((obj.get("metadata") or {}).get("resourceVersion") or revision)
            if typ == "BOOKMARK":
                continue
            self._observe(watched, None if typ == "DELETED" else obj)
            if is_immutable(watched.obj):
                break
        return revision

    def _observe(self, watched: _Watched, obj: Obj | None) -> None:
        changed = watched.synced and version(watched.obj) != version(obj)
        watched.obj, watched.synced = obj, True
        watched.settled.set()
        if changed and self.on_change is not None and watched.users:
            self.on_change(set(watched.users))

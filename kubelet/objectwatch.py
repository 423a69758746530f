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

Each watch is an `api.informer.Informer` on that one name (list, watch, resume, relist on 410,
back-off after refusals). A read waits (up to `sync_timeout`) for the first list of a new watch; when the object is not
registered, or its watch has not synced (refused, failing), the caller falls back to a GET, so
nothing is worse than before. A change seen after the first sync wakes the pods that use the
object (`on_change`): mounted files follow an update at once instead of at the next periodic
sync.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from api.informer import DeletedFinalStateUnknown, Informer
from api.podrefs import CONFIGMAPS, SECRETS, references
from api.protocol import ApiClient

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


class _Watched:
    """One object's informer, its task, and the pods (UIDs) that use it."""

    def __init__(self, key: Key, informer: Informer) -> None:
        self.key = key
        self.users: set[str] = set()
        self.informer = informer
        self.task: asyncio.Task[None] | None = None

    @property
    def obj(self) -> Obj | None:
        return self.informer.get(f"{self.key[1]}/{self.key[2]}")


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
            watched = self._objects.get(key) or self._start(key)
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

    def _start(self, key: Key) -> _Watched:
        resource, namespace, name = key
        informer = Informer(
            self.client,
            resource,
            namespace,
            field_selector=f"metadata.name={name}",
            retry_delay=self.retry_delay,
            max_retry_delay=self.max_retry_delay,
            watch_timeout=self.watch_timeout,
        )
        watched = self._objects[key] = _Watched(key, informer)

        def seen(obj: Obj | DeletedFinalStateUnknown) -> None:
            if is_immutable(obj if isinstance(obj, dict) else None):
                informer.stop()  # it cannot change: the copy stands while pods use it, unwatched
            # the first list is not a change; what follows it is, and wakes the object's users
            if informer.has_synced() and self.on_change is not None and watched.users:
                self.on_change(set(watched.users))

        informer.add_handlers(seen, lambda old, new: seen(new), seen)
        watched.task = asyncio.create_task(informer.run(), name=f"watch:{'/'.join(key)}")
        return watched

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
        informer = watched.informer
        if not informer.settled.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.sync_timeout):
                    await informer.settled.wait()
        return (True, watched.obj) if informer.has_synced() else (False, None)

    async def close(self) -> None:
        tasks = [w.task for w in self._objects.values() if w.task is not None]
        self._objects.clear()
        self._by_pod.clear()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

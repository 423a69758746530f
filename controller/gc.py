"""The garbage collector: ownerReferences are honoured after the owner goes.

Three jobs, all level-triggered over the informers of the resources that carry owners
(every namespaced kind of `api.resources` but events and leases):
- a dependent whose owners are all gone is deleted (Background); owners that are gone are
  dropped from a dependent that still has others;
- an owner being deleted with the `orphan` finalizer: its dependents lose the ownerReference,
  then the finalizer is removed;
- an owner being deleted with the `foregroundDeletion` finalizer: its dependents are deleted,
  and once none is left the finalizer is removed (so the owner goes last).
"Gone" is confirmed with a live GET (a UID mismatch counts as gone) before anything is
deleted, because a cache may not have seen a brand-new owner yet.

Custom resources are owners and dependents like the rest (an operator's object owning the
Deployment it made): each Established CRD's kind gets an informer of its own while the CRD
lasts (kube's GC follows discovery the same way). An owner of a kind the cluster does not
serve is never taken for gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from api.errors import ApiError
from api.informer import DeletedFinalStateUnknown, Informer, key_of
from api.resources import RESOURCES, Resource, by_kind
from controller.base import ApiClient, Obj, QueueController, meta, unwrap
from controller.customkinds import custom_resources

log = logging.getLogger(__name__)

ORPHAN = "orphan"
CUSTOM_LIST_WAIT = 30.0  # seconds a foreground deletion waits for a custom kind's first listing
FOREGROUND = "foregroundDeletion"
# every namespaced kind that can be listed, watched and deleted may be an owner or a dependent
# (Deployment -> ReplicaSet -> Pod, CronJob -> Job -> Pod, StatefulSet -> ControllerRevision ...);
# events and leases are left out: never owners here, and the busiest kinds to mirror
_NOT_COLLECTED = frozenset({"events", "leases"})
GC_RESOURCES = tuple(
    r.plural
    for r in RESOURCES
    if r.namespaced and r.plural not in _NOT_COLLECTED and {"list", "watch", "delete"} <= set(r.verbs)
)


def absent_owners(refs: list[Obj], exists: dict[str, bool]) -> list[Obj]:
    """Pure: the refs whose owner (by UID) is known not to exist."""
    return [r for r in refs if not exists.get(r.get("uid", ""), False)]


def dependent_action(refs: list[Obj], absent: list[Obj], foreground_owner: bool) -> str:
    """Pure: "delete", "drop-refs" or "keep" for a dependent."""
    if not refs:
        return "keep"
    if len(absent) == len(refs) or foreground_owner:
        return "delete"
    return "drop-refs" if absent else "keep"


class GarbageCollector(QueueController):
    name = "garbagecollector"

    def __init__(
        self,
        client: ApiClient,
        informers: dict[str, Informer],
        workers: int = 4,
        crds: Informer | None = None,
    ) -> None:
        """`informers`: the built-in kinds' by plural; `crds`: when given, custom kinds too."""
        super().__init__(workers)
        self.client = client
        self.informers = dict(informers)  # plural (a custom kind's "plural.group") -> informer
        self.targets: dict[str, Resource] = {}  # a custom kind's informer key -> its Resource
        self.custom_kinds: dict[tuple[str, str], str] = {}  # (group, kind) -> informer key
        self._custom_runs: dict[str, asyncio.Task[None]] = {}
        self._custom_since: dict[str, float] = {}  # when each custom kind's informer started
        self.dependents: dict[str, set[tuple[str, str]]] = {}  # owner uid -> {(plural, key)}
        for plural, inf in informers.items():
            self._follow(plural, inf)
        self.crds = crds
        if crds is not None:
            crds.add_handlers(self._crd_seen, lambda old, new: self._crd_seen(new), self._crd_gone)

    def _follow(self, plural: str, inf: Informer) -> None:
        inf.add_handlers(self._added(plural), self._updated(plural), self._deleted(plural))

    async def run(self, *informers: Informer) -> None:
        try:
            await super().run(*self.informers.values(), *((self.crds,) if self.crds else ()), *informers)
        finally:
            for task in self._custom_runs.values():
                task.cancel()
            for task in self._custom_runs.values():
                with contextlib.suppress(BaseException):
                    await task

    # custom kinds, while their CRDs last
    def _crd_seen(self, crd: Obj) -> None:
        for res in custom_resources([crd]):
            key = f"{res.plural}.{res.group}"
            if key in self._custom_runs:
                continue
            inf = Informer(self.client, res)
            self.informers[key], self.targets[key] = inf, res
            self.custom_kinds[(res.group, res.kind)] = key
            self._follow(key, inf)
            loop = asyncio.get_running_loop()
            self._custom_runs[key] = loop.create_task(inf.run(), name=f"gc-informer:{key}")
            self._custom_since[key] = loop.time()

    def _crd_gone(self, x: Obj | DeletedFinalStateUnknown) -> None:
        """Its objects went with it (the API server deletes them first): their dependents are
        looked at as for any owner gone, and the kind's informer stops."""
        spec = unwrap(x).get("spec") or {}
        names = (unwrap(x).get("status") or {}).get("acceptedNames") or {}
        key = f"{names.get('plural')}.{spec.get('group')}"
        task = self._custom_runs.pop(key, None)
        self._custom_since.pop(key, None)
        if task is None:
            return
        task.cancel()
        inf = self.informers.pop(key)
        res = self.targets.pop(key)
        self.custom_kinds.pop((res.group, res.kind), None)
        on_delete = self._deleted(key)
        for obj in inf.list():
            on_delete(obj)

    def _custom_listing(self) -> bool:
        """A custom kind's informer has not listed yet, and started under CUSTOM_LIST_WAIT ago (one
        whose list keeps failing does not hold foreground deletions for ever)."""
        now = asyncio.get_running_loop().time()
        return any(
            not self.informers[k].has_synced() and now - since < CUSTOM_LIST_WAIT
            for k, since in self._custom_since.items()
        )

    def _target(self, plural: str) -> Resource | str:
        """What the client is asked with for an informer key: a custom kind's Resource."""
        return self.targets.get(plural, plural)

    def _owner_key(self, ref: Obj) -> str | None:
        """The informer key of an owner's kind; None when no informer follows it."""
        res = by_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
        if res is not None:
            return res.plural if res.plural in self.informers else None
        group = str(ref.get("apiVersion", "")).rpartition("/")[0]
        return self.custom_kinds.get((group, str(ref.get("kind", ""))))

    # graph upkeep
    def _index(self, plural: str, obj: Obj, add: bool) -> None:
        item = (plural, key_of(obj))
        for ref in meta(obj).get("ownerReferences") or []:
            uid = ref.get("uid", "")
            if add:
                self.dependents.setdefault(uid, set()).add(item)
            else:
                s = self.dependents.get(uid)
                if s is not None:
                    s.discard(item)
                    if not s:
                        del self.dependents[uid]

    def _added(self, plural: str) -> Callable[[Obj], None]:
        def on_add(obj: Obj) -> None:
            self._index(plural, obj, True)
            self._check(plural, obj)

        return on_add

    def _updated(self, plural: str) -> Callable[[Obj, Obj], None]:
        def on_update(old: Obj, new: Obj) -> None:
            self._index(plural, old, False)
            self._index(plural, new, True)
            self._check(plural, new)

        return on_update

    def _deleted(self, plural: str) -> Callable[[Obj | DeletedFinalStateUnknown], None]:
        def on_delete(x: Obj | DeletedFinalStateUnknown) -> None:
            obj = unwrap(x)
            self._index(plural, obj, False)
            for dep in list(self.dependents.get(meta(obj).get("uid", ""), ())):
                self.enqueue(f"dep|{dep[0]}|{dep[1]}")
            self._notify_owners(obj)

        return on_delete

    def _check(self, plural: str, obj: Obj) -> None:
        m = meta(obj)
        refs = m.get("ownerReferences") or []
        if refs:
            owners = [self._owner_in_cache(r) for r in refs]
            # the common case, every owner present and alive, needs no sync at all
            if not all(o is not None and not meta(o[1]).get("deletionTimestamp") for o in owners):
                self.enqueue(f"dep|{plural}|{key_of(obj)}")
                self._notify_owners(obj)
        if m.get("deletionTimestamp") and {ORPHAN, FOREGROUND} & set(m.get("finalizers") or []):
            self.enqueue(f"own|{plural}|{key_of(obj)}")

    def _notify_owners(self, obj: Obj) -> None:
        """A dependent changed or went: owners waiting in foreground may now finish."""
        for ref in meta(obj).get("ownerReferences") or []:
            found = self._owner_in_cache(ref)
            if found is not None and meta(found[1]).get("deletionTimestamp"):
                self.enqueue(f"own|{found[0]}|{key_of(found[1])}")

    def _owner_in_cache(self, ref: Obj) -> tuple[str, Obj] | None:
        key = self._owner_key(ref)
        if key is None:
            return None
        o = self.informers[key].cache.get_by_uid(ref.get("uid", ""))
        return (key, o) if o is not None else None

    async def _owner_exists(self, ref: Obj, namespace: str | None) -> Obj | None:
        found = self._owner_in_cache(ref)
        if found is not None:
            return found[1]
        res = by_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
        if res is None:
            custom = self._owner_key(ref)
            if custom is None:
                return {}  # a kind the cluster does not serve: never collect on its account
            res = self.targets[custom]
        try:
            live = await self.client.get(res, ref.get("name", ""), namespace if res.namespaced else None)
        except ApiError as e:
            if e.code == 404:
                return None
            raise
        return live if meta(live).get("uid") == ref.get("uid") else None

    # the reconcile
    async def sync(self, item: str) -> None:
        kind, plural, key = item.split("|", 2)
        informer = self.informers.get(plural)  # None: a custom kind whose CRD went meanwhile
        obj = informer.get(key) if informer is not None else None
        if obj is None:
            return
        if kind == "dep":
            await self._sync_dependent(plural, obj)
        else:
            await self._sync_owner(plural, obj)

    async def _sync_dependent(self, plural: str, obj: Obj) -> None:
        m = meta(obj)
        refs = list(m.get("ownerReferences") or [])
        exists: dict[str, bool] = {}
        foreground = False
        for ref in refs:
            owner = await self._owner_exists(ref, m.get("namespace"))
            exists[ref.get("uid", "")] = owner is not None
            if (
                owner
                and meta(owner).get("deletionTimestamp")
                and FOREGROUND in (meta(owner).get("finalizers") or [])
            ):
                foreground = True
        absent = absent_owners(refs, exists)
        action = dependent_action(refs, absent, foreground)
        if action == "delete" and not m.get("deletionTimestamp"):
            await self._delete_dependent(plural, obj)
        elif action == "drop-refs":
            gone = {r.get("uid") for r in absent}
            keep = [r for r in refs if r.get("uid") not in gone]
            await self._patch_refs(plural, obj, keep)

    async def _delete_dependent(self, plural: str, obj: Obj) -> None:
        """Delete this very object (uid precondition), its own dependents in the background; gone
        already (404) or replaced by a namesake (409) is done."""
        m = meta(obj)
        try:
            await self.client.delete(
                self._target(plural),
                m["name"],
                m.get("namespace"),
                propagation_policy="Background",
                preconditions={"uid": m.get("uid")},
            )
        except ApiError as e:
            if e.code not in (404, 409):
                raise

    async def _patch_refs(self, plural: str, obj: Obj, refs: list[Obj]) -> None:
        m = meta(obj)
        body = {"metadata": {"ownerReferences": refs or None, "resourceVersion": m.get("resourceVersion")}}
        try:
            await self.client.patch(self._target(plural), m["name"], body, namespace=m.get("namespace"))
        except ApiError as e:
            if e.code == 409:
                raise  # stale: retried with the newer object
            if e.code != 404:
                raise

    async def _sync_owner(self, plural: str, owner: Obj) -> None:
        m = meta(owner)
        fin = list(m.get("finalizers") or [])
        if not m.get("deletionTimestamp"):
            return
        uid = m.get("uid", "")
        deps = [
            (p, o)
            for p, k in sorted(self.dependents.get(uid, ()))
            if p in self.informers and (o := self.informers[p].get(k)) is not None
        ]
        if ORPHAN in fin:
            for p, dep in deps:
                keep = [r for r in meta(dep).get("ownerReferences") or [] if r.get("uid") != uid]
                await self._patch_refs(p, dep, keep)
            await self._remove_finalizer(plural, owner, ORPHAN)
        elif FOREGROUND in fin:
            for p, dep in deps:
                if not meta(dep).get("deletionTimestamp"):
                    await self._delete_dependent(p, dep)
            if deps:
                return
            if self._custom_listing():
                # a custom kind's dependents may not be listed yet: none seen is not none there
                self.queue.add_after(f"own|{plural}|{key_of(owner)}", 0.5)
                return
            await self._remove_finalizer(plural, owner, FOREGROUND)

    async def _remove_finalizer(self, plural: str, owner: Obj, finalizer: str) -> None:
        m = meta(owner)
        rest = [f for f in m.get("finalizers") or [] if f != finalizer]
        body = {"metadata": {"finalizers": rest or None, "resourceVersion": m.get("resourceVersion")}}
        try:
            await self.client.patch(self._target(plural), m["name"], body, namespace=m.get("namespace"))
        except ApiError as e:
            if e.code != 404:
                raise

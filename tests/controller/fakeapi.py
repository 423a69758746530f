"""An in-memory API for unit tests of the control loops: the same verbs as `AsyncClient`.

Objects live in a dict keyed by (plural, namespace, name) with a global revision counter;
watches are fed from a per-watcher asyncio queue. It is deliberately simple: merge patches
only, no validation, no graceful deletion. `fail_watch_once` and `compact` let tests drive
the informer's resume and relist paths. Every call is recorded in `calls`.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from typing import Any

from api import errors
from api.requests import resource as resolve
from api.selectors import parse_field_selector, parse_label_selector

Obj = dict[str, Any]


def _merge(dst: Any, patch: Any) -> Any:
    if not isinstance(patch, dict) or not isinstance(dst, dict):
        return copy.deepcopy(patch)
    out = dict(dst)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge(out.get(k), v)
    return out


class FakeApi:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], Obj] = {}
        self.rv = 0
        self.calls: list[tuple[str, str, str]] = []
        self.watchers: list[tuple[str, str | None, asyncio.Queue[Obj | None]]] = []
        self.history: list[tuple[int, str, str, Obj]] = []  # (rv, plural, type, obj)
        self.compacted_below = 0
        self.fail_next: dict[str, errors.ApiError] = {}
        self.latency = 0.0

    # helpers for tests
    def objs(self, plural: str, namespace: str | None = None) -> list[Obj]:
        return [
            o
            for (p, ns, _), o in self.objects.items()
            if p == plural and (namespace is None or ns == namespace)
        ]

    def compact(self) -> None:
        self.compacted_below = self.rv + 1

    def drop_watches(self) -> None:
        for _, _, q in self.watchers:
            q.put_nowait(None)

    def _emit(self, plural: str, typ: str, obj: Obj) -> None:
        self.history.append((self.rv, plural, typ, copy.deepcopy(obj)))
        for p, ns, q in self.watchers:
            if p == plural and (ns is None or ns == obj["metadata"].get("namespace")):
                q.put_nowait({"type": typ, "object": copy.deepcopy(obj)})

    def _key(self, r: Any, name: str, namespace: str | None) -> tuple[str, str, str]:
        res = resolve(r)
        return (res.plural, namespace or "" if res.namespaced else "", name)

    async def _enter(self, verb: str, plural: str, name: str = "") -> None:
        self.calls.append((verb, plural, name))
        if self.latency:
            await asyncio.sleep(self.latency)
        err = self.fail_next.pop(verb, None)
        if err is not None:
            raise err

    # verbs
    async def get(
        self, r: Any, name: str, namespace: str | None = None, subresource: str | None = None
    ) -> Obj:
        k = self._key(r, name, namespace)
        await self._enter("get", k[0], name)
        if k not in self.objects:
            raise errors.not_found(k[0], name)
        return copy.deepcopy(self.objects[k])

    async def list(
        self,
        r: Any,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        **kw: Any,
    ) -> Obj:
        res = resolve(r)
        await self._enter("list", res.plural)
        ls, fs = parse_label_selector(label_selector), parse_field_selector(field_selector)
        items = [
            copy.deepcopy(o)
            for o in self.objs(res.plural, namespace if res.namespaced else None)
            if ls.matches(o["metadata"].get("labels")) and fs.matches(o)
        ]
        return {
            "kind": res.list_kind,
            "apiVersion": res.api_version,
            "metadata": {"resourceVersion": str(self.rv)},
            "items": items,
        }

    async def create(
        self,
        r: Any,
        obj: Obj,
        namespace: str | None = None,
        subresource: str | None = None,
        name: str | None = None,
        **kw: Any,
    ) -> Obj:
        res = resolve(r)
        obj = copy.deepcopy(obj)
        if subresource == "binding":
            await self._enter("bind", res.plural, name or "")
            k = self._key(res, name or "", namespace)
            pod = self.objects.get(k)
            if pod is None:
                raise errors.not_found("pods", name or "")
            if pod["spec"].get("nodeName"):
                raise errors.conflict("pods", name or "", "pod is already assigned")
            pod["spec"]["nodeName"] = obj["target"]["name"]
            self._bump("MODIFIED", res.plural, pod)
            return {"kind": "Status", "status": "Success"}
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        ns = namespace or meta.get("namespace") or ""
        if res.namespaced:
            meta["namespace"] = ns
        await self._enter("create", res.plural, meta["name"])
        k = self._key(res, meta["name"], ns)
        if k in self.objects:
            raise errors.already_exists(res.plural, meta["name"])
        meta["uid"] = str(uuid.uuid4())
        meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
        meta["generation"] = 1
        obj.setdefault("kind", res.kind)
        obj.setdefault("apiVersion", res.api_version)
        self.objects[k] = obj
        self._bump("ADDED", res.plural, obj)
        return copy.deepcopy(obj)

    def _bump(self, typ: str, plural: str, obj: Obj) -> None:
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self._emit(plural, typ, obj)

    async def update(
        self, r: Any, obj: Obj, namespace: str | None = None, subresource: str | None = None, **kw: Any
    ) -> Obj:
        res = resolve(r)
        meta = obj["metadata"]
        await self._enter("update" + (f"/{subresource}" if subresource else ""), res.plural, meta["name"])
        k = self._key(res, meta["name"], namespace or meta.get("namespace"))
        cur = self.objects.get(k)
        if cur is None:
            raise errors.not_found(res.plural, meta["name"])
        if meta.get("resourceVersion") and meta["resourceVersion"] != cur["metadata"]["resourceVersion"]:
            raise errors.stale_conflict(res.plural, meta["name"])
        new = copy.deepcopy(obj)
        if subresource == "status":
            new = dict(cur, status=new.get("status"))
        new["metadata"] = dict(new["metadata"], uid=cur["metadata"]["uid"])
        return self._store_update(res.plural, k, new)

    def _store_update(self, plural: str, k: tuple[str, str, str], new: Obj) -> Obj:
        meta = new["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            del self.objects[k]
            self._bump("DELETED", plural, new)
        else:
            self.objects[k] = new
            self._bump("MODIFIED", plural, new)
        return copy.deepcopy(new)

    async def patch(
        self,
        r: Any,
        name: str,
        body: Any,
        content_type: str = "",
        namespace: str | None = None,
        subresource: str | None = None,
        **kw: Any,
    ) -> Obj:
        res = resolve(r)
        await self._enter("patch" + (f"/{subresource}" if subresource else ""), res.plural, name)
        k = self._key(res, name, namespace)
        cur = self.objects.get(k)
        if cur is None:
            raise errors.not_found(res.plural, name)
        return self._store_update(res.plural, k, _merge(cur, body))

    async def delete(
        self,
        r: Any,
        name: str,
        namespace: str | None = None,
        propagation_policy: str | None = None,
        preconditions: dict[str, str] | None = None,
        **kw: Any,
    ) -> Obj:
        res = resolve(r)
        await self._enter("delete", res.plural, name)
        k = self._key(res, name, namespace)
        cur = self.objects.get(k)
        if cur is None:
            raise errors.not_found(res.plural, name)
        if preconditions and preconditions.get("uid") not in (None, cur["metadata"]["uid"]):
            raise errors.conflict(res.plural, name, "precondition failed: UID mismatch")
        fin = list(cur["metadata"].get("finalizers") or [])
        if propagation_policy == "Foreground" and "foregroundDeletion" not in fin:
            fin.append("foregroundDeletion")
        if propagation_policy == "Orphan" and "orphan" not in fin:
            fin.append("orphan")
        if fin:
            cur["metadata"]["finalizers"] = fin
            cur["metadata"].setdefault("deletionTimestamp", "2026-01-01T00:00:00Z")
            self._bump("MODIFIED", res.plural, cur)
            return copy.deepcopy(cur)
        del self.objects[k]
        self._bump("DELETED", res.plural, cur)
        return copy.deepcopy(cur)

    async def watch(
        self,
        r: Any,
        namespace: str | None = None,
        resource_version: str | None = None,
        field_selector: str | None = None,
        label_selector: str | None = None,
        **kw: Any,
    ) -> AsyncIterator[Obj]:
        res = resolve(r)
        await self._enter("watch", res.plural)
        start = int(resource_version or 0)
        if resource_version and start < self.compacted_below - 1:
            yield {
                "type": "ERROR",
                "object": {
                    "kind": "Status",
                    "code": 410,
                    "reason": "Expired",
                    "message": "too old resource version",
                },
            }
            return
        q: asyncio.Queue[Obj | None] = asyncio.Queue()
        ns = namespace if res.namespaced else None
        for rv, plural, typ, obj in self.history:
            if rv > start and plural == res.plural and (ns is None or obj["metadata"].get("namespace") == ns):
                q.put_nowait({"type": typ, "object": copy.deepcopy(obj)})
        entry = (res.plural, ns, q)
        self.watchers.append(entry)
        fs, ls = parse_field_selector(field_selector), parse_label_selector(label_selector)
        try:
            while True:
                ev = await q.get()
                if ev is None:
                    return
                o = ev["object"]
                if fs.matches(o) and ls.matches(o["metadata"].get("labels")):
                    yield ev
        finally:
            self.watchers.remove(entry)

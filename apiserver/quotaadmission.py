"""The ResourceQuota admission: a create that would take its namespace past a quota is refused, and
one admitted is charged to the quota's `status.used` before it is written.

For each quota of the namespace that counts the new object (`api.quota.usage`; a scoped quota only
pods in its scopes), as kube's quota admission does, against the quota's `status.hard` (what the
controller has taken up; a quota it has not counted yet bounds nothing):
- a pod must set the cpu and memory requests/limits the quota bounds, in every container
  ("failed quota: NAME: must specify ..."), else it could escape the quota;
- a resource in `status.hard` without a `status.used` refuses ("status unknown for quota: ...");
- used + requested past hard refuses ("exceeded quota: NAME, requested: ..., used: ...,
  limited: ..."), 403 in every case, nothing stored.
Every quota is checked before any is charged (a dry run stops there); then each `status.used` is
raised by a compare-and-swap write of the quota (two creates at once cannot both take the last
unit), and should one of those writes find the quota full after all, the charges already made
are given back. The controller recounts from what exists later. Quotas are read from a mirror
kept by a watch; a namespace without one costs a dict lookup.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from api import jsonutil
from api.errors import ApiError, admission_forbidden, object_name
from api.jsonutil import as_object
from api.quantity import parse_quantity
from api.quota import missing_compute, quota_counts, usage, written
from api.resources import Resource, by_plural
from apiserver.mirror import ParsedMirror
from apiserver.storage.interface import KeyValue, Store

Obj = dict[str, Any]
PREFIX = "/registry/resourcequotas/"
QUOTAS = by_plural("", "resourcequotas")


class QuotaCache(ParsedMirror[Obj]):
    """Every ResourceQuota, by "namespace/name", kept by a watch."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, PREFIX, jsonutil.loads)

    async def of_namespace(self, namespace: str) -> list[Obj]:
        if self.mirror.synced.is_set():
            found = self.by_namespace.get(namespace)
            return [q for _, q in sorted(found.items())] if found else []
        _, kvs = await self.store.list(f"{PREFIX}{namespace}/")
        return [self.parse(kv.value) for kv in kvs]


def _refused(res: Resource, obj: Obj, why: str) -> ApiError:
    return admission_forbidden(res.plural, res.group, object_name(obj), why)


def _listed(values: dict[str, Any]) -> str:
    return ",".join(f"{k}={values[k]}" for k in sorted(values))


def _counted(quota: Obj) -> tuple[dict[str, Any], dict[str, Any]]:
    """The quota's status hard and used (what the controller has counted)."""
    status = as_object(quota.get("status"))
    return as_object(status.get("hard")), as_object(status.get("used"))


def _charge(quota: Obj, delta: dict[str, Decimal]) -> tuple[dict[str, str], str]:
    """(the quota's new status.used, "" ) or ({}, why not)."""
    name = (quota.get("metadata") or {}).get("name")
    hard, used = _counted(quota)
    unknown = sorted(n for n in delta if n not in used)
    if unknown:
        return {}, f"status unknown for quota: {name}, resources: {','.join(unknown)}"
    after = {n: parse_quantity(used[n]) + v for n, v in delta.items()}
    over = sorted(n for n, v in after.items() if v > parse_quantity(hard[n]))
    if over:
        return {}, (
            f"exceeded quota: {name}, requested: {_listed({n: written(delta[n], str(hard[n])) for n in over})}, "
            f"used: {_listed({n: used[n] for n in over})}, limited: {_listed({n: hard[n] for n in over})}"
        )
    return {**used, **{n: written(v, str(hard[n])) for n, v in after.items()}}, ""


def _requests(
    res: Resource, obj: Obj, quotas: list[Obj], old: Obj | None = None
) -> list[tuple[str, dict[str, Decimal]]]:
    """What `obj` asks of each quota that counts it, checked against the quotas as read: (quota
    name, usage) for those it uses; 403 when one refuses. For an update of `old`, what it adds
    (a claim grown, a service made a NodePort): kube's evaluators charge the difference."""
    out = []
    for quota in quotas:
        if not quota_counts(quota.get("spec") or {}, res.plural, res.group, obj):
            continue
        names = list(_counted(quota)[0])
        if not names:
            continue  # not counted yet: bounds nothing (kube)
        name = str(quota["metadata"]["name"])
        if res.plural == "pods" and old is None:
            missing = missing_compute(obj, names)
            if missing:
                raise _refused(res, obj, f"failed quota: {name}: must specify {'; '.join(missing)}")
        delta = usage(res.plural, res.group, obj, names)
        if old is not None:
            before = usage(res.plural, res.group, old, names)
            delta = {n: v - before.get(n, Decimal(0)) for n, v in delta.items()}
        delta = {n: v for n, v in delta.items() if v > 0}
        if delta:
            why = _charge(quota, delta)[1]
            if why:
                raise _refused(res, obj, why)
            out.append((name, delta))
    return out


async def _write_used(
    registry: Any, namespace: str, name: str, delta: dict[str, Decimal], refuse: Any
) -> None:
    """Add `delta` (negative: give back) to a quota's status.used by compare-and-swap; `refuse(why)`
    makes the error when the quota, as stored now, is full."""

    def mutate(cur: Obj, kv: KeyValue) -> tuple[Obj, str | None]:
        hard, used = _counted(cur)
        if all(v < 0 for v in delta.values()):
            after = {n: max(Decimal(0), parse_quantity(used[n]) + v) for n, v in delta.items() if n in used}
            new_used = {**used, **{n: written(v, str(hard.get(n, ""))) for n, v in after.items()}}
        else:
            new_used, why = _charge(cur, delta)
            if why:
                raise refuse(why)
        return dict(cur, status=dict(cur.get("status") or {}, used=new_used)), None

    assert QUOTAS is not None
    await registry.update(QUOTAS, namespace, name, mutate, subresource="status")


async def admit(
    registry: Any,
    cache: QuotaCache,
    res: Resource,
    namespace: str | None,
    obj: Obj,
    charge: bool = True,
    old: Obj | None = None,
) -> None:
    """Check a create of `obj` (or an update of `old` to it) against its namespace's quotas (403
    when it may not), then charge them (not for a dry run)."""
    if not namespace or not res.namespaced:
        return
    quotas = await cache.of_namespace(namespace)
    if not quotas:
        return
    asked = _requests(res, obj, quotas, old)
    if not charge:
        return
    charged: list[tuple[str, dict[str, Decimal]]] = []
    try:
        for name, delta in asked:
            await _write_used(registry, namespace, name, delta, lambda why: _refused(res, obj, why))
            charged.append((name, delta))
    except ApiError:
        for name, delta in charged:
            back = {n: -v for n, v in delta.items()}
            await _write_used(registry, namespace, name, back, lambda why: _refused(res, obj, why))
        raise

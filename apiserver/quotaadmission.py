"""The ResourceQuota admission: a create that would take its namespace past a quota is refused, and
one admitted is charged to the quota's `status.used` before it is written.

For each quota of the namespace that counts the new object (`api.quota.usage`; a scoped quota only
pods in its scopes), as kube's quota admission does:
- a pod must set every requests/limits resource the quota bounds for its containers ("failed
  quota: NAME: must specify ..."), else it could escape the quota;
- a quota the controller has not counted yet refuses ("status unknown for quota: ...");
- used + requested past hard refuses ("exceeded quota: NAME, requested: ..., used: ...,
  limited: ..."), 403 in every case, nothing stored;
- otherwise `status.used` is raised by a compare-and-swap write of the quota (two creates at once
  cannot both take the last unit), and the controller recounts from what exists later.
Quotas are read from a mirror kept by a watch; a namespace without one costs a dict lookup.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from api import jsonutil
from api.errors import ApiError, forbidden
from api.quantity import parse_quantity
from api.quota import missing_compute, pod_in_scopes, usage, written
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
    meta = obj.get("metadata") or {}
    name = str(meta.get("name") or meta.get("generateName") or "Unknown")
    qualified = f"{res.plural}.{res.group}" if res.group else res.plural
    err = forbidden(f'{qualified} "{name}" is forbidden: {why}')
    err.details = {"name": name, "kind": res.plural, **({"group": res.group} if res.group else {})}
    return err


def _listed(values: dict[str, Any]) -> str:
    return ",".join(f"{k}={values[k]}" for k in sorted(values))


def _charge(quota: Obj, delta: dict[str, Decimal]) -> tuple[dict[str, str], str]:
    """(the quota's new status.used, "" ) or ({}, why not)."""
    name = (quota.get("metadata") or {}).get("name")
    hard: dict[str, Any] = (quota.get("spec") or {}).get("hard") or {}
    status = quota.get("status") or {}
    used: dict[str, Any] = status.get("used") or {}
    unknown = sorted(n for n in delta if n not in used or (status.get("hard") or {}).get(n) != hard.get(n))
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


async def admit(registry: Any, cache: QuotaCache, res: Resource, namespace: str | None, obj: Obj) -> None:
    """Check and charge a create of `obj` against its namespace's quotas (403 when it may not)."""
    if not namespace or not res.namespaced:
        return
    quotas = await cache.of_namespace(namespace)
    if not quotas:
        return
    for quota in quotas:
        spec = quota.get("spec") or {}
        scopes = [str(s) for s in spec.get("scopes") or []]
        if scopes and (res.plural != "pods" or not pod_in_scopes(obj, scopes)):
            continue
        names = list(spec.get("hard") or {})
        if res.plural == "pods":
            missing = missing_compute(obj, names)
            if missing:
                raise _refused(
                    res, obj, f"failed quota: {quota['metadata']['name']}: must specify {'; '.join(missing)}"
                )
        delta = {n: v for n, v in usage(res.plural, res.group, obj, names).items() if v}
        if not delta:
            continue

        def mutate(cur: Obj, kv: KeyValue, delta: dict[str, Decimal] = delta) -> tuple[Obj, str | None]:
            used, why = _charge(cur, delta)
            if why:
                raise _refused(res, obj, why)
            return dict(cur, status=dict(cur.get("status") or {}, used=used)), None

        assert QUOTAS is not None
        await registry.update(QUOTAS, namespace, quota["metadata"]["name"], mutate, subresource="status")

"""The LimitRanger admission: a namespace's LimitRanges default and bound what its pods and claims ask.

On a pod create, every container (init containers too) without a request or limit of a resource
its namespace's Container items name gets the item's `defaultRequest` and `default` (defaulting has
filled those from max and min, `validation/limitrange.py`), and the pod is annotated with what was
set (`kubernetes.io/limit-ranger`). Then each container is held to the items' min, max and
maxLimitRequestRatio, the pod's sums to the Pod items', and a claim's storage request to the
PersistentVolumeClaim items': a 403 in kube's words, one reason or a bracketed list. A request the
pod sets only as a limit counts as that limit first, as the pod's own defaulting would have it.

The LimitRanges are read from a mirror kept by a watch (no store read per create); before its
first listing, from the store.
"""

from __future__ import annotations

from typing import Any

from api import jsonutil
from api.errors import ApiError, admission_forbidden, object_name
from api.jsonutil import as_object
from api.quantity import quantity_or_none as _q
from api.quota import pod_total, written
from apiserver.mirror import ParsedMirror
from apiserver.storage.interface import Store
from apiserver.validation.limitrange import CLAIM, CONTAINER, POD, items

Obj = dict[str, Any]
ANNOTATION = "kubernetes.io/limit-ranger"
PREFIX = "/registry/limitranges/"


class LimitRangeCache(ParsedMirror[list[Obj]]):
    """Every LimitRange's items, by "namespace/name", kept by a watch."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, PREFIX, lambda value: items(jsonutil.loads(value)))

    async def of_namespace(self, namespace: str) -> list[Obj]:
        """The items of the namespace's LimitRanges (in name order, as a listing gives them)."""
        if self.mirror.synced.is_set():
            found = self.by_namespace.get(namespace)
            return [item for _, parsed in sorted(found.items()) for item in parsed] if found else []
        _, kvs = await self.store.list(f"{PREFIX}{namespace}/")
        return [item for kv in kvs for item in self.parse(kv.value)]


def _resources(c: Obj, key: str) -> dict[str, Any]:
    return as_object(as_object(c.get("resources")).get(key))


def _requests_from_limits(c: Obj) -> None:
    """The pod's own defaulting, which kube applies when the body is decoded, before admission: a
    resource a container only limits is also its request."""
    res = c.get("resources")
    if isinstance(res, dict) and isinstance(res.get("limits"), dict) and res["limits"]:
        requests = res.setdefault("requests", {})
        for name, value in res["limits"].items():
            requests.setdefault(name, value)


def _set_defaults(c: Obj, item: Obj, what: str) -> list[str]:
    """kube's mergeContainerResources: the item's defaults where the container has none."""
    res = c.setdefault("resources", {})
    if not isinstance(res, dict):
        return []
    limits = res.setdefault("limits", {})
    requests = res.setdefault("requests", {})
    set_limits = sorted(n for n in item.get("default") or {} if n not in limits)
    set_requests = sorted(n for n in item.get("defaultRequest") or {} if n not in requests)
    for n in set_limits:
        limits[n] = item["default"][n]
    for n in set_requests:
        requests[n] = item["defaultRequest"][n]
    notes = []
    if set_requests:
        notes.append(f"{', '.join(set_requests)} request for {what} {c.get('name')}")
    if set_limits:
        notes.append(f"{', '.join(set_limits)} limit for {what} {c.get('name')}")
    for key in ("limits", "requests"):
        if not res[key]:
            del res[key]
    return notes


def _bounds(kind: str, item: Obj, requests: dict[str, Any], limits: dict[str, Any]) -> list[str]:
    """kube's minConstraint, maxConstraint and limitRequestRatioConstraint for one item."""
    out: list[str] = []
    for name, enforced in (item.get("min") or {}).items():
        req, lim, floor = _q(requests.get(name)), _q(limits.get(name)), _q(enforced)
        if floor is None:
            continue
        if name not in requests:
            out.append(f"minimum {name} usage per {kind} is {enforced}.  No request is specified")
        elif req is not None and req < floor:
            out.append(f"minimum {name} usage per {kind} is {enforced}, but request is {requests[name]}")
        elif lim is not None and lim < floor:
            out.append(f"minimum {name} usage per {kind} is {enforced}, but limit is {limits[name]}")
    for name, enforced in (item.get("max") or {}).items():
        req, lim, ceiling = _q(requests.get(name)), _q(limits.get(name)), _q(enforced)
        if ceiling is None:
            continue
        if name not in limits:
            out.append(f"maximum {name} usage per {kind} is {enforced}.  No limit is specified")
        elif lim is not None and lim > ceiling:
            out.append(f"maximum {name} usage per {kind} is {enforced}, but limit is {limits[name]}")
        elif req is not None and req > ceiling:
            out.append(f"maximum {name} usage per {kind} is {enforced}, but request is {requests[name]}")
    for name, enforced in (item.get("maxLimitRequestRatio") or {}).items():
        req, lim, ratio = _q(requests.get(name)), _q(limits.get(name)), _q(enforced)
        if ratio is None:
            continue
        if not req:
            out.append(
                f"{name} max limit to request ratio per {kind} is {enforced}, but no request is specified or request is 0"
            )
        elif not lim:
            out.append(
                f"{name} max limit to request ratio per {kind} is {enforced}, but no limit is specified or limit is 0"
            )
        elif lim / req > ratio:
            out.append(
                f"{name} max limit to request ratio per {kind} is {enforced}, but provided ratio is {float(lim / req):f}"
            )
    return out


def _pod_totals(spec: Obj) -> tuple[dict[str, str], dict[str, str]]:
    """The pod's requests and limits: its containers' sums (of those that set them), at least
    each init container's own."""
    containers = [
        c for k in ("containers", "initContainers") for c in spec.get(k) or [] if isinstance(c, dict)
    ]
    totals: list[dict[str, str]] = []
    for key in ("requests", "limits"):
        # each resource's total written in the format of the first container's value (1Gi, 500m)
        like: dict[str, str] = {}
        for c in containers:
            for name, value in _resources(c, key).items():
                like.setdefault(name, str(value))
        found = {name: pod_total(spec, key, name) for name in like}
        totals.append({name: written(v, like[name]) for name, v in found.items() if v is not None})
    return totals[0], totals[1]


def _refusal(kind: str, obj: Obj, reasons: list[str]) -> ApiError:
    """admission.NewForbidden with an aggregate of the reasons (bracketed when several)."""
    why = reasons[0] if len(reasons) == 1 else "[" + ", ".join(reasons) + "]"
    return admission_forbidden(kind, "", object_name(obj), why)


async def admit_pod(cache: LimitRangeCache, namespace: str, pod: Obj) -> None:
    """Default, annotate, then bound a pod about to be created (in place; 403 when out of bounds)."""
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return
    ranges = await cache.of_namespace(namespace)
    if not ranges:
        return
    for key in ("initContainers", "containers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict):
                _requests_from_limits(c)
    notes: list[str] = []
    for item in ranges:
        if item.get("type") != CONTAINER:
            continue
        # kube's annotation: the containers, then the init containers; the last range's notes
        item_notes: list[str] = []
        for key, what in (("containers", "container"), ("initContainers", "init container")):
            for c in spec.get(key) or []:
                if isinstance(c, dict):
                    item_notes += _set_defaults(c, item, what)
        notes = item_notes or notes
    if notes:
        meta = pod.setdefault("metadata", {})
        meta["annotations"] = {
            **as_object(meta.get("annotations")),
            ANNOTATION: "LimitRanger plugin set: " + "; ".join(notes),
        }
    reasons: list[str] = []
    for item in ranges:
        if item.get("type") == CONTAINER:
            for key in ("initContainers", "containers"):
                for c in spec.get(key) or []:
                    if isinstance(c, dict):
                        reasons += _bounds(
                            CONTAINER, item, _resources(c, "requests"), _resources(c, "limits")
                        )
        elif item.get("type") == POD:
            requests, limits = _pod_totals(spec)
            reasons += _bounds(POD, item, requests, limits)
    if reasons:
        raise _refusal("pods", pod, reasons)


async def admit_claim(cache: LimitRangeCache, namespace: str, claim: Obj) -> None:
    """Bound a claim's storage request by the namespace's PersistentVolumeClaim items."""
    ranges = [i for i in await cache.of_namespace(namespace) if i.get("type") == CLAIM]
    if not ranges:
        return
    requests = _resources(as_object(claim.get("spec")), "requests")
    reasons: list[str] = []
    for item in ranges:
        # a claim's limits are not the user's ask (kube): the min as for a container, the max
        # against the request (maxRequestConstraint)
        reasons += _bounds(CLAIM, {"min": item.get("min") or {}}, requests, {})
        for name, enforced in (item.get("max") or {}).items():
            req, ceiling = _q(requests.get(name)), _q(enforced)
            if ceiling is None:
                continue
            if name not in requests:
                reasons.append(f"maximum {name} usage per {CLAIM} is {enforced}.  No request is specified")
            elif req is not None and req > ceiling:
                reasons.append(
                    f"maximum {name} usage per {CLAIM} is {enforced}, but request is {requests[name]}"
                )
    if reasons:
        raise _refusal("persistentvolumeclaims", claim, reasons)

"""Discovery documents, built from the resource table (`api.resources.RESOURCES`).

kubectl learns every resource type from these, so their exact shape matters (KUBE-WIRE.md):

- `negotiate_discovery(accept)` -> the exact Content-Type to answer an aggregated
  `APIGroupDiscoveryList` with (`application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`,
  or `v=v2beta1` for kubectl 1.27-1.29), or `None` for the legacy documents. Sent with plain
  `application/json`, kubectl misreads an aggregated body, hence the exact header.
- `aggregated(core, version)` -> the `APIGroupDiscoveryList` for `GET /api` (core=True) or
  `GET /apis`, in apidiscovery.k8s.io `version` ("v2" or "v2beta1"; same shape).
- `api_versions(server_address)` -> legacy `GET /api` (`APIVersions`).
- `api_group_list()` -> legacy `GET /apis` (`APIGroupList`).
- `resource_list(group, version)` -> `GET /api/v1` or `/apis/<group>/<version>`
  (`APIResourceList`, subresources as `pods/log` ...), `None` for a group/version we do not serve.

Pure and cached: the documents depend only on the table (the static rows and the custom
resources served at run time, `api.resources.served_resources()`); `invalidate()` drops the
cache when the custom resources change.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from api.resources import Resource, Subresource, served_resources

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def negotiate_discovery(accept: str) -> str | None:
    """The aggregated content type the client listed first, or None when it wants the legacy form."""
    for entry in (accept or "").split(","):
        parts = [p.strip() for p in entry.split(";")]
        if parts[0].lower() != "application/json":
            continue
        params = {}
        for p in parts[1:]:
            k, _, v = p.partition("=")
            params[k.strip().lower()] = v.strip()
        if params.get("g") != "apidiscovery.k8s.io" or params.get("as") != "APIGroupDiscoveryList":
            continue
        if params.get("q") in ("0", "0.0"):
            continue
        if params.get("v") == "v2":
            return AGGREGATED_V2
        if params.get("v") == "v2beta1":
            return AGGREGATED_V2BETA1
    return None


def _groups() -> list[tuple[str, str]]:
    """(group, version) pairs served under /apis, in table order, without duplicates; a group's
    versions together, its preferred version first (a custom resource's rows come in that order)."""
    seen: list[tuple[str, str]] = []
    for r in served_resources():
        if r.group and (r.group, r.version) not in seen:
            at = max((i for i, (g, _) in enumerate(seen) if g == r.group), default=len(seen) - 1)
            seen.insert(at + 1, (r.group, r.version))
    return seen


def invalidate() -> None:
    """Forget the cached documents (the custom resources changed)."""
    _aggregated.cache_clear()


def _scope(r: Resource) -> str:
    return "Namespaced" if r.namespaced else "Cluster"


def _sub_kind(r: Resource, s: Subresource) -> dict[str, str]:
    return {"group": s.group if s.group else r.group, "version": s.version, "kind": s.kind}


def _aggregated_resource(r: Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": _scope(r),
        "singularResource": r.singular,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    if r.subresources:
        entry["subresources"] = [
            {"subresource": s.name, "responseKind": _sub_kind(r, s), "verbs": list(s.verbs)}
            for s in r.subresources
        ]
    return entry


@cache
def _aggregated(core: bool, version: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    if core:
        resources = [_aggregated_resource(r) for r in served_resources() if not r.group]
        items.append(
            {
                "metadata": {"creationTimestamp": None},
                "versions": [{"version": "v1", "resources": resources, "freshness": "Current"}],
            }
        )
    else:
        by_group: dict[str, list[dict[str, Any]]] = {}
        for group, gv in _groups():
            resources = [
                _aggregated_resource(r) for r in served_resources() if r.group == group and r.version == gv
            ]
            by_group.setdefault(group, []).append(
                {"version": gv, "resources": resources, "freshness": "Current"}
            )
        for group, versions in by_group.items():
            items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": versions})
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": items,
    }


def aggregated(core: bool, version: str = "v2") -> dict[str, Any]:
    """APIGroupDiscoveryList for /api (core) or /apis; a fresh copy the caller may change."""
    return copy.deepcopy(_aggregated(core, version))


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_group_list() -> dict[str, Any]:
    groups: list[dict[str, Any]] = []
    for group, version in _groups():
        gv = {"groupVersion": f"{group}/{version}", "version": version}
        if groups and groups[-1]["name"] == group:
            groups[-1]["versions"].append(gv)
        else:
            groups.append({"name": group, "versions": [gv], "preferredVersion": dict(gv)})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any] | None:
    """`GET /apis/<group>` (APIGroup), None if we do not serve the group."""
    for g in api_group_list()["groups"]:
        if g["name"] == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **g}
    return None


def _legacy_resource(r: Resource) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        main["shortNames"] = list(r.short_names)
    if r.categories:
        main["categories"] = list(r.categories)
    out = [main]
    for s in r.subresources:
        sub: dict[str, Any] = {"name": f"{r.plural}/{s.name}", "singularName": "", "namespaced": r.namespaced}
        if s.group and s.group != r.group:
            sub["group"] = s.group
            sub["version"] = s.version
        sub["kind"] = s.kind
        sub["verbs"] = list(s.verbs)
        out.append(sub)
    return out


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    served = [r for r in served_resources() if r.group == group and r.version == version]
    if not served:
        return None
    resources = [entry for r in served for entry in _legacy_resource(r)]
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }

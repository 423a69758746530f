"""Resource types the built-in table does not know, found through the server's discovery.

kubelite's own types resolve from `api.resources` with no request at all (the fast path); a
name or kind it does not know (`deployments`, `apps/v1 Deployment` on a real cluster) is looked
up in `/api/v1` and `/apis/<group>/<version>` documents, cached per server for ten minutes
under the cache dir as kubectl caches discovery, so kubectl works against any
Kubernetes-compatible server. `create role` resolves its `--resource` names here too, always
through discovery as kubectl's RESTMapper does (`resource_for`).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from api import jsonutil
from api import requests as rq
from api.errors import ApiError
from api.resources import Resource
from kubectl.cache import cache_dir, write_cache

TTL = 600.0


def _cache_file(env: Any) -> Any:
    key = hashlib.sha1(env.config.server.encode()).hexdigest()[:16]
    return cache_dir() / f"discovery-{key}.json"


def _fetch(env: Any) -> list[dict[str, Any]]:
    """Every top-level resource as {group, version, name, singularName, kind, namespaced, shortNames, categories}."""
    out: list[dict[str, Any]] = []
    lists: list[tuple[str, str, dict[str, Any]]] = [("", "v1", env.client.call(rq.Request("GET", "/api/v1")))]
    try:
        groups = env.client.call(rq.Request("GET", "/apis"))
    except ApiError:
        groups = {}
    for g in groups.get("groups") or []:
        pv = g.get("preferredVersion") or {}
        if pv.get("groupVersion"):
            try:
                lists.append(
                    (
                        g.get("name", ""),
                        pv.get("version", ""),
                        env.client.call(rq.Request("GET", f"/apis/{pv['groupVersion']}")),
                    )
                )
            except ApiError:
                continue
    for group, version, lst in lists:
        for r in lst.get("resources") or []:
            if "/" not in r.get("name", ""):
                out.append({**r, "group": group, "version": version})
    return out


def resources(env: Any) -> list[dict[str, Any]]:
    path = _cache_file(env)
    try:
        if time.time() - path.stat().st_mtime < TTL:
            return list(jsonutil.loads(path.read_bytes()))
    except (OSError, ValueError):
        pass
    found = _fetch(env)
    write_cache(path, found)
    return found


def _to_resource(r: dict[str, Any]) -> Resource:
    return Resource(
        r["name"],
        r.get("singularName") or r["name"],
        r.get("kind", ""),
        bool(r.get("namespaced")),
        group=r.get("group", ""),
        version=r.get("version", "v1"),
        short_names=tuple(r.get("shortNames") or ()),
        categories=tuple(r.get("categories") or ()),
    )


def by_name(env: Any, name: str) -> Resource | None:
    """`deployments`, `deploy`, `deployment`, `deployments.apps`."""
    base, _, group = name.partition(".")
    low = base.lower()
    for r in resources(env):
        if group and r.get("group") != group and not str(r.get("group", "")).startswith(group):
            continue
        names = {
            r.get("name"),
            r.get("singularName"),
            str(r.get("kind", "")).lower(),
            *(r.get("shortNames") or []),
        }
        if low in names:
            return _to_resource(r)
    return None


def by_kind(env: Any, api_version: str, kind: str) -> Resource | None:
    group, _, version = api_version.rpartition("/")
    for r in resources(env):
        if r.get("kind") == kind and r.get("group") == group and r.get("version") == version:
            return _to_resource(r)
    return None


def resource_for(env: Any, resource: str, group: str = "") -> tuple[str, str] | None:
    """(group, plural) for a resource named as kubectl's RESTMapper resolves it: plural, singular
    or short name in any case (`pods`, `Pod`, `po`); `group` exact, else a prefix of one (`rbac`);
    the core group first, then the server's group order. None if nothing matches."""
    low = resource.lower()
    found = resources(env)
    scopes = [found]
    if group:
        scopes = [
            [r for r in found if r.get("group") == group],
            [r for r in found if str(r.get("group", "")).startswith(group)],
        ]
    for scope in scopes:
        for r in scope:
            if low in (r.get("name"), r.get("singularName")):
                return str(r.get("group", "")), str(r["name"])
        for r in scope:
            if low in (r.get("shortNames") or []):
                return str(r.get("group", "")), str(r["name"])
    return None

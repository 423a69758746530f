"""Path -> Route: which resource, namespace, name and subresource a URL names (pure).

Shapes served, for the core group `/api/v1` and for `/apis/<group>/<version>` alike:
`<plural>` (cluster-scoped, or every namespace), `<plural>/<name>[/<sub>]`,
`namespaces/<ns>/<plural>[/<name>[/<sub>]]`. `namespaces/<name>/status` and
`namespaces/<name>/finalize` are the Namespace's own subresources. The `proxy` subresource
takes a path after it (`pods/<name>/proxy/<path>`): kept, from its slash on, as `Route.path`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.resources import RESOURCES, Resource, dynamic_in_version

_BY_GV: dict[tuple[str, str], dict[str, Resource]] = {}
for _r in RESOURCES:
    _BY_GV.setdefault((_r.group, _r.version), {})[_r.plural] = _r
_NAMESPACE_SUBS = frozenset({"status", "finalize"})
# a pod's subresources the kubelet of its node serves (the API server proxies them); all but the
# log are streams, which arrive as WebSocket or SPDY upgrades
KUBELET_SUBRESOURCES = ("log", "exec", "attach", "portforward")
PROXY = "proxy"  # pods, services and nodes: an HTTP proxy to the object, a path after it


@dataclass(frozen=True)
class Route:
    resource: Resource
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    path: str = ""  # after `proxy`: "" for `.../proxy`, "/" for `.../proxy/`, "/a/b" ...


def split_group_version(path: str) -> tuple[str, str, list[str]] | None:
    """`/api/v1/x/y` -> ("", "v1", ["x","y"]); `/apis/g/v/x` -> ("g", "v", ["x"]); None otherwise."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        return "", parts[1], parts[2:]
    if len(parts) >= 3 and parts[0] == "apis":
        return parts[1], parts[2], parts[3:]
    return None


def resolve(path: str) -> Route | None:
    gv = split_group_version(path)
    if gv is None:
        return None
    group, version, rest = gv
    table = _BY_GV.get((group, version)) or {}
    if not rest:
        return None
    base = 2 if group == "" else 3  # the segments of /api/v1 or /apis/<group>/<version>
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in _NAMESPACE_SUBS:
        res = table.get(rest[2]) or dynamic_in_version(group, version, rest[2])  # custom resources
        if res is None or not res.namespaced:
            return None
        if len(rest) >= 5 and rest[4] == PROXY:
            return Route(res, rest[1], rest[3], PROXY, _after(path, base + 5))
        if len(rest) > 5:
            return None
        return Route(res, rest[1], rest[3] if len(rest) > 3 else None, rest[4] if len(rest) > 4 else None)
    res = table.get(rest[0]) or dynamic_in_version(group, version, rest[0])
    if res is None:
        return None
    if len(rest) >= 3 and rest[2] == PROXY:
        return Route(res, None, rest[1], PROXY, _after(path, base + 3))
    if len(rest) > 3:
        return None
    return Route(res, None, rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None)


def _after(path: str, segments: int) -> str:
    """What follows the first `segments` segments of `path`, from the slash after them on."""
    m = re.match(rf"/*(?:[^/]+/+){{{segments - 1}}}[^/]+", path)
    return path[m.end() :] if m else ""

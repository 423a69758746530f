"""Applying JSON merge patches (RFC 7386) and strategic merge patches: the one implementation
the API server (which applies PATCH bodies) and kubectl (whose tests' stand-in server and
`apply`'s round-trip checks apply them too) share.

A strategic merge patch is a merge patch in which lists whose Go type carries a merge key
(containers, env, volumes by `name`, container ports by `containerPort`, service ports by
`port`, conditions by `type` ...) merge element by element, and `@set` lists merge as sets.
Directives: `null` deletes a key; `$patch: replace` (a map replaces the original; a list element
makes the list the other elements), `$patch: delete` (a map: removed; a list element: the one
with that key removed), `$patch: merge` (the default); `$setElementOrder/<list>` orders a merged
list; `$retainKeys` drops the keys of a map it does not name; `$deleteFromPrimitiveList/<list>`
removes values from a scalar list.

Which lists merge by which key is asked of a `MergeShape`: the server walks its schema
(`apiserver.schema`), kubectl, which has no schema, the `MERGE_KEYS` table by field path
(`PathShape`). Both work in place on a document the caller already copied. A malformed patch is
400 BadRequest (`ApiError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from api.errors import bad_request

Path = tuple[str, ...]

# list field -> patchMergeKey of the core v1 types; `ports` depends on its parent (see merge_key)
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "addresses": "type",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}
_CONTAINER_LISTS = frozenset({"containers", "initContainers", "ephemeralContainers"})
_DELETE = object()
_ORDER = "$setElementOrder/"
_DEL_PRIMITIVE = "$deleteFromPrimitiveList/"


def merge_key(path: Path) -> str | None:
    """The patchMergeKey of the list at `path` (field names only, no indices); None = atomic."""
    if not path:
        return None
    last = path[-1]
    if last == "ports":
        return "containerPort" if any(p in _CONTAINER_LISTS for p in path[:-1]) else "port"
    return MERGE_KEYS.get(last)


class MergeShape(Protocol):
    """What a strategic merge needs to know of one node of an object's type."""

    def child(self, key: str) -> MergeShape | None:
        """The shape of field (or map value) `key` of this map; None = unknown."""

    def list_rule(self) -> tuple[str, bool]:
        """This node as a list: (merge key, merge as a set); ("", False) = atomic (replaced)."""

    def item(self) -> MergeShape | None:
        """The shape of this list's elements."""


@dataclass(frozen=True)
class PathShape:
    """A `MergeShape` from `MERGE_KEYS` and the field path alone (no schema: kubectl's view)."""

    path: Path = ()

    def child(self, key: str) -> PathShape:
        return PathShape((*self.path, key))

    def list_rule(self) -> tuple[str, bool]:
        return merge_key(self.path) or "", False

    def item(self) -> PathShape:
        return self


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, `null` deletes, anything else (lists too) replaces.
    Mutates `target`; returns the new root (a non-object patch replaces the whole document)."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            target[key] = merge_patch(target.get(key), value)
        else:
            target[key] = value
    return target


def strategic_merge(original: dict[str, Any], patch: Any, shape: MergeShape | None) -> dict[str, Any]:
    """`patch` applied to `original` (mutated) with strategic-merge semantics."""
    if not isinstance(patch, dict):
        raise bad_request("strategic merge patch must be a JSON object")
    merged = _merge_map(original, patch, shape)
    if merged is _DELETE:
        raise bad_request("a strategic merge patch may not delete the whole object")
    assert isinstance(merged, dict)
    return merged


def strip_directives(value: Any) -> Any:
    """A patch fragment applied to nothing: the same fragment without `$` directives."""
    if isinstance(value, dict):
        if value.get("$patch") == "delete":
            return _DELETE
        out = {}
        for k, v in value.items():
            if k.startswith("$") or v is None:
                continue
            sv = strip_directives(v)
            if sv is not _DELETE:
                out[k] = sv
        return out
    if isinstance(value, list):
        kept = [
            strip_directives(v) for v in value if not (isinstance(v, dict) and "$patch" in v and len(v) == 1)
        ]
        return [v for v in kept if v is not _DELETE]
    return value


def _child(shape: MergeShape | None, key: str) -> MergeShape | None:
    return shape.child(key) if shape is not None else None


def _merge_map(original: dict[str, Any], patch: dict[str, Any], shape: MergeShape | None) -> Any:
    """Merge `patch` into `original` (mutated); returns the result or `_DELETE`."""
    directive = patch.get("$patch")
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    if directive not in (None, "merge"):
        raise bad_request(f"Unknown patch type: {directive}")
    orders: dict[str, Any] = {}
    server_order = {
        k[len(_ORDER) :]: list(original.get(k[len(_ORDER) :]) or [])
        for k in patch
        if k.startswith(_ORDER) and isinstance(original.get(k[len(_ORDER) :]), list)
    }
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys"):
            continue
        if key.startswith(_ORDER):
            orders[key[len(_ORDER) :]] = value
            continue
        if key.startswith(_DEL_PRIMITIVE):
            name = key[len(_DEL_PRIMITIVE) :]
            if isinstance(original.get(name), list) and isinstance(value, list):
                original[name] = [x for x in original[name] if x not in value]
            continue
        if value is None:
            original.pop(key, None)
            continue
        sub = _child(shape, key)
        current = original.get(key)
        if isinstance(value, dict):
            merged = _merge_map(current if isinstance(current, dict) else {}, value, sub)
            if merged is _DELETE:
                original.pop(key, None)
            else:
                original[key] = merged
        elif isinstance(value, list):
            original[key] = _merge_list(current if isinstance(current, list) else [], value, sub)
        else:
            original[key] = value
    for name, order in orders.items():
        if isinstance(original.get(name), list) and isinstance(order, list):
            sub = _child(shape, name)
            key = sub.list_rule()[0] if sub is not None else ""
            original[name] = _reorder(original[name], order, server_order.get(name, []), key)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        for key in [k for k in original if k not in retain]:
            del original[key]
    return original


def _merge_list(original: list[Any], patch: list[Any], shape: MergeShape | None) -> list[Any]:
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return strip_directives(
            [p for p in patch if not (isinstance(p, dict) and p.get("$patch") == "replace")]
        )
    key, as_set = shape.list_rule() if shape is not None else ("", False)
    if as_set:
        out = list(original)
        for item in patch:
            if item not in out:
                out.append(item)
        return out
    if not key:
        return strip_directives(patch)
    assert shape is not None
    elem = shape.item()
    out = list(original)
    for item in patch:
        if not isinstance(item, dict):
            raise bad_request(f"merging an object in json but data type is not a map: {item!r}")
        if key not in item:
            raise bad_request(f"map: {item} does not contain declared merge key: {key}")
        at = next((i for i, o in enumerate(out) if isinstance(o, dict) and o.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            out = [o for o in out if not (isinstance(o, dict) and o.get(key) == item[key])]
            continue
        if at is None:
            merged = strip_directives(item)
            if merged is not _DELETE:
                out.append(merged)
        else:
            merged = _merge_map(out[at], item, elem)
            if merged is _DELETE:
                del out[at]
            else:
                out[at] = merged
    return out


def _reorder(items: list[Any], order: list[Any], server: list[Any], key: str) -> list[Any]:
    """Order as `$setElementOrder` says; elements it does not name keep their place relative to the
    others as they stood on the server (apimachinery's normalizeElementOrder + mergeSortedSlice)."""

    def ident(x: Any) -> Any:
        return repr(x.get(key)) if key and isinstance(x, dict) else repr(x)

    rank = {ident(o): i for i, o in enumerate(order)}
    server_rank = {ident(o): i for i, o in enumerate(server)}
    named = sorted((x for x in items if ident(x) in rank), key=lambda x: rank[ident(x)])
    others = [x for x in items if ident(x) not in rank]
    out: list[Any] = []
    i = j = 0
    while i < len(named) or j < len(others):
        if j >= len(others):
            out.append(named[i])
            i += 1
        elif i >= len(named):
            out.append(others[j])
            j += 1
        else:
            li, ri = server_rank.get(ident(named[i])), server_rank.get(ident(others[j]))
            if li is not None and ri is not None and li < ri:
                out.append(named[i])
                i += 1
            else:
                out.append(others[j])
                j += 1
    return out

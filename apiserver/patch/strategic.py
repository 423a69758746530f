"""Strategic merge patch (`application/strategic-merge-patch+json`), driven by the schema table.

What kubectl's client-side `apply` and `edit` send. Like a JSON merge patch, except that lists
whose Go type carries a merge key (`apiserver.schema`: containers, env, volumes by `name`,
container ports by `containerPort`, service ports by `port`, conditions by `type` ...) merge
element by element, and `[string]@set` lists merge as sets. Directives handled:

- `null` value: delete the key;
- `$patch: replace` (in a map: the map replaces the original; as a list element: the list is
  replaced by the other elements), `$patch: delete` (a map: removed; a list element: the
  element with that key is removed), `$patch: merge` (the default);
- `$setElementOrder/<list>`: the order of the merged list (elements not named keep their order
  after the named ones);
- `$retainKeys`: keys of the map not listed are dropped;
- `$deleteFromPrimitiveList/<list>`: values removed from a scalar list.

Fields the schema does not know (or `object` ones) merge like a JSON merge patch.
Works in place on a document the caller already copied.
"""

from __future__ import annotations

from typing import Any

from api.errors import bad_request
from apiserver.schema import Spec

_DELETE = object()
_ORDER = "$setElementOrder/"
_DEL_PRIMITIVE = "$deleteFromPrimitiveList/"


def _child(spec: Spec | None, key: str) -> Spec | None:
    if spec is None:
        return None
    if spec.form == "struct":
        return spec.fields.get(key)
    if spec.form == "map":
        return spec.elem
    return None


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
        kept = [strip_directives(v) for v in value if not (isinstance(v, dict) and "$patch" in v and len(v) == 1)]
        return [v for v in kept if v is not _DELETE]
    return value


def merge_map(original: dict[str, Any], patch: dict[str, Any], spec: Spec | None) -> Any:
    """Merge `patch` into `original` (mutated); returns the result or `_DELETE`."""
    directive = patch.get("$patch")
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    if directive not in (None, "merge"):
        raise bad_request(f"Unknown patch type: {directive}")
    orders: dict[str, Any] = {}
    server_order = {k[len(_ORDER):]: list(original.get(k[len(_ORDER):]) or []) for k in patch
                    if k.startswith(_ORDER) and isinstance(original.get(k[len(_ORDER):]), list)}
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys"):
            continue
        if key.startswith(_ORDER):
            orders[key[len(_ORDER):]] = value
            continue
        if key.startswith(_DEL_PRIMITIVE):
            name = key[len(_DEL_PRIMITIVE):]
            if isinstance(original.get(name), list) and isinstance(value, list):
                original[name] = [x for x in original[name] if x not in value]
            continue
        if value is None:
            original.pop(key, None)
            continue
        sub = _child(spec, key)
        current = original.get(key)
        if isinstance(value, dict):
            merged = merge_map(current if isinstance(current, dict) else {}, value, sub)
            if merged is _DELETE:
                original.pop(key, None)
            else:
                original[key] = merged
        elif isinstance(value, list):
            original[key] = merge_list(current if isinstance(current, list) else [], value, sub)
        else:
            original[key] = value
    for name, order in orders.items():
        if isinstance(original.get(name), list) and isinstance(order, list):
            original[name] = _reorder(original[name], order, server_order.get(name, []), _child(spec, name))
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        for key in [k for k in original if k not in retain]:
            del original[key]
    return original


def merge_list(original: list[Any], patch: list[Any], spec: Spec | None) -> list[Any]:
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return strip_directives([p for p in patch if not (isinstance(p, dict) and p.get("$patch") == "replace")])
    if spec is None or spec.form != "list":
        return strip_directives(patch)
    if spec.set_merge:
        out = list(original)
        for item in patch:
            if item not in out:
                out.append(item)
        return out
    key = spec.merge_key
    if not key:
        return strip_directives(patch)
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
            merged = merge_map(out[at], item, spec.elem)
            if merged is _DELETE:
                del out[at]
            else:
                out[at] = merged
    return out


def _reorder(items: list[Any], order: list[Any], server: list[Any], spec: Spec | None) -> list[Any]:
    """Order as `$setElementOrder` says; elements it does not name keep their place relative to the
    others as they stood on the server (apimachinery's normalizeElementOrder + mergeSortedSlice)."""
    key = spec.merge_key if spec is not None and spec.form == "list" else ""

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


def strategic_merge(original: dict[str, Any], patch: Any, spec: Spec | None) -> dict[str, Any]:
    if not isinstance(patch, dict):
        raise bad_request("strategic merge patch must be a JSON object")
    merged = merge_map(original, patch, spec)
    if merged is _DELETE:
        raise bad_request("a strategic merge patch may not delete the whole object")
    assert isinstance(merged, dict)
    return merged

"""Strategic merge patches for the core v1 kinds: the three-way patch `kubectl apply` sends, and
applying such a patch (the server's half, used by our tests' stand-in and by `edit --dry-run`).

A three-way patch (`three_way_patch(original, modified, current)`, as
CreateThreeWayMergePatch): fields in the last-applied configuration (`original`) but no longer
in the manifest (`modified`) become `null` / `$patch: delete` entries; fields of the manifest
that differ from the live object (`current`) are set; fields only the server or other writers
set are left alone. Lists of objects merge by key (`name` for containers, `containerPort` for
container ports, `port` for service ports ...), and `$setElementOrder/<list>` fixes the order.
Pure functions over JSON dicts.
"""

from __future__ import annotations

import copy
from typing import Any

Path = tuple[str, ...]

# list field -> merge key; the parent field disambiguates `ports`
_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "imagePullSecrets": "name", "hostAliases": "ip", "conditions": "type", "ownerReferences": "uid",
    "addresses": "type", "topologySpreadConstraints": "topologyKey", "resourceClaims": "name",
}


def merge_key(path: Path) -> str | None:
    """The patchMergeKey of the list at `path` (field names only, no indices); None = atomic."""
    if not path:
        return None
    last = path[-1]
    if last == "ports":
        return "containerPort" if any(p in ("containers", "initContainers", "ephemeralContainers")
                                      for p in path[:-1]) else "port"
    return _KEYS.get(last)


def _diff_map(cur: dict[str, Any], mod: dict[str, Any], path: Path) -> dict[str, Any]:
    """What must change in cur to carry mod's values (additions and changes only)."""
    out: dict[str, Any] = {}
    for k, mv in mod.items():
        if k not in cur:
            out[k] = mv
            continue
        cv = cur[k]
        if isinstance(mv, dict) and isinstance(cv, dict):
            d = _diff_map(cv, mv, (*path, k))
            if d:
                out[k] = d
        elif isinstance(mv, list) and isinstance(cv, list):
            _diff_list(out, k, cv, mv, (*path, k))
        elif mv != cv:
            out[k] = mv
    return out


def _by_key(items: list[Any], key: str) -> dict[Any, dict[str, Any]]:
    return {it.get(key): it for it in items if isinstance(it, dict)}


def _diff_list(out: dict[str, Any], k: str, cur: list[Any], mod: list[Any], path: Path) -> None:
    key = merge_key(path)
    if key is None or not all(isinstance(it, dict) and key in it for it in mod):
        if cur != mod:
            out[k] = mod
        return
    current = _by_key(cur, key)
    items = []
    for it in mod:
        c = current.get(it[key])
        if c is None:
            items.append(it)
            continue
        d = _diff_map(c, it, path)
        if d:
            items.append({key: it[key], **d})
    if items:
        out[k] = items
        out[f"$setElementOrder/{k}"] = [{key: it[key]} for it in mod]


def _deletions(orig: dict[str, Any], mod: dict[str, Any], path: Path) -> dict[str, Any]:
    """Fields set by the last apply that the manifest no longer has."""
    out: dict[str, Any] = {}
    for k, ov in orig.items():
        if k not in mod:
            out[k] = None
            continue
        mv = mod[k]
        if isinstance(ov, dict) and isinstance(mv, dict):
            d = _deletions(ov, mv, (*path, k))
            if d:
                out[k] = d
        elif isinstance(ov, list) and isinstance(mv, list):
            key = merge_key((*path, k))
            if key is None:
                continue
            modified = _by_key(mv, key)
            gone: list[Any] = []
            for it in ov:
                if not isinstance(it, dict) or key not in it:
                    continue
                m = modified.get(it[key])
                if m is None:
                    gone.append({key: it[key], "$patch": "delete"})
                else:
                    d = _deletions(it, m, (*path, k))
                    if d:
                        gone.append({key: it[key], **d})
            if gone:
                out[k] = gone
                out[f"$setElementOrder/{k}"] = [{key: it[key]} for it in mv if isinstance(it, dict)]
    return out


def _merge_patches(a: dict[str, Any], b: dict[str, Any], path: Path) -> dict[str, Any]:
    out = dict(a)
    for k, bv in b.items():
        av = out.get(k)
        if isinstance(av, dict) and isinstance(bv, dict):
            out[k] = _merge_patches(av, bv, (*path, k))
        elif isinstance(av, list) and isinstance(bv, list) and not k.startswith("$"):
            key = merge_key((*path, k))
            if key:
                merged = {it.get(key): it for it in av}
                for it in bv:
                    prev = merged.get(it.get(key))
                    merged[it.get(key)] = _merge_patches(prev, it, (*path, k)) if prev else it
                out[k] = list(merged.values())
            else:
                out[k] = bv
        else:
            out[k] = bv
    return out


def three_way_patch(original: dict[str, Any] | None, modified: dict[str, Any],
                    current: dict[str, Any]) -> dict[str, Any]:
    """The patch `kubectl apply` sends; {} when nothing changes."""
    delta = _diff_map(current, modified, ())
    if original:
        delta = _merge_patches(_deletions(original, modified, ()), delta, ())
    return delta


def two_way_patch(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """before -> after, removals included (what `kubectl edit` sends)."""
    return _merge_patches(_deletions(before, after, ()), _diff_map(before, after, ()), ())


# --- applying a patch (the server's side) ---------------------------------------------------

def apply_patch(obj: dict[str, Any], patch: dict[str, Any], path: Path = ()) -> dict[str, Any]:
    """A new object: `patch` merged into `obj` with strategic-merge semantics."""
    if patch.get("$patch") == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    out = copy.deepcopy(obj)
    orders: dict[str, list[Any]] = {}
    for k, pv in patch.items():
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = pv
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            name = k.split("/", 1)[1]
            out[name] = [v for v in out.get(name) or [] if v not in pv]
            continue
        if k.startswith("$"):
            continue
        if pv is None:
            out.pop(k, None)
        elif isinstance(pv, dict):
            cur = out.get(k)
            if pv.get("$patch") == "delete":
                out.pop(k, None)
            else:
                out[k] = apply_patch(cur if isinstance(cur, dict) else {}, pv, (*path, k))
        elif isinstance(pv, list):
            key = merge_key((*path, k))
            cur = out.get(k)
            if key and isinstance(cur, list):
                out[k] = _merge_list(cur, pv, key, (*path, k))
            else:
                out[k] = [_clean(v) for v in pv if not (isinstance(v, dict) and v.get("$patch") == "delete")]
        else:
            out[k] = pv
    for name, order in orders.items():
        key = merge_key((*path, name))
        if key and isinstance(out.get(name), list):
            rank = {o.get(key): i for i, o in enumerate(order) if isinstance(o, dict)}
            items = out[name]
            out[name] = sorted(items, key=lambda it: (rank.get(it.get(key), len(rank)), items.index(it)))
    return out


def _merge_list(cur: list[Any], patch: list[Any], key: str, path: Path) -> list[Any]:
    out = [copy.deepcopy(it) for it in cur]
    for it in patch:
        if not isinstance(it, dict):
            continue
        idx = next((i for i, c in enumerate(out) if isinstance(c, dict) and c.get(key) == it.get(key)), None)
        if it.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
        elif idx is None:
            out.append(_clean(it))
        else:
            out[idx] = apply_patch(out[idx], it, path)
    return out


def _clean(v: Any) -> Any:
    """Drop directives from a value being inserted whole."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items() if not k.startswith("$") and x is not None}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def merge_patch(obj: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(obj) if isinstance(obj, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out

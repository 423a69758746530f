"""Strategic merge patches for the core v1 kinds: computing the three-way patch `kubectl apply`
sends and the two-way one `kubectl edit` sends. Applying one is `api.strategic` (shared with the
server), whose `merge_key` table says which lists merge by which key.

A three-way patch (`three_way_patch(original, modified, current)`, as
CreateThreeWayMergePatch): fields in the last-applied configuration (`original`) but no longer
in the manifest (`modified`) become `null` / `$patch: delete` entries; fields of the manifest
that differ from the live object (`current`) are set; fields only the server or other writers
set are left alone. Lists of objects merge by key (`name` for containers, `containerPort` for
container ports, `port` for service ports ...), and `$setElementOrder/<list>` fixes the order.
Pure functions over JSON dicts.
"""

from __future__ import annotations

from typing import Any

from api.strategic import Path, merge_key


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


def three_way_patch(
    original: dict[str, Any] | None, modified: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    """The patch `kubectl apply` sends; {} when nothing changes."""
    delta = _diff_map(current, modified, ())
    if original:
        delta = _merge_patches(_deletions(original, modified, ()), delta, ())
    return delta


def two_way_patch(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """before -> after, removals included (what `kubectl edit` sends)."""
    return _merge_patches(_deletions(before, after, ()), _diff_map(before, after, ()), ())

"""Server-side apply (`application/apply-patch+yaml`) and field-manager bookkeeping.

`server_side_apply(current, applied, manager, force, kind)` creates (current None) or updates
the object the way kube-apiserver's field manager does, in a reduced form:

1. the fields `applied` sets become the manager's `Apply` entry in `metadata.managedFields`;
2. a field another manager owns, set here to a different value, is a conflict: 409 Conflict
   `Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .spec.replicas`
   with one `FieldManagerConflict` cause per field, unless `force`, which takes the field over
   (as do the upgrades from client-side apply: the manager `kubectl` takes, without a conflict,
   the fields the last-applied-configuration annotation holds at their live values);
3. fields this manager applied before, no longer applied and owned by nobody else, are removed;
4. the applied values are merged in (maps by key, keyed lists by merge key, set lists as sets,
   everything else replaced).

`record_update(old, new, manager, operation="Update")` records, on `new` in place, the fields a
PUT/PATCH/POST by `manager` changed (the real server does this on every write, which is what
makes later applies conflict with `kubectl edit`/`scale`); managedFields the write itself changed
are taken as sent, as kube-apiserver does. Neither function mutates its inputs other than `new`
in `record_update`.
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError
from api.jsonutil import dumps, loads, now_str
from apiserver.patch import managed
from apiserver.patch.managed import Path
from apiserver.schema import Spec, kind_spec

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _copy(obj: Any) -> Any:
    return loads(dumps(obj))


def _entries(obj: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list(((obj or {}).get("metadata") or {}).get("managedFields") or [])


def _entry(
    manager: str, operation: str, api_version: str, leaves: set[Path], subresource: str = ""
) -> dict[str, Any]:
    e: dict[str, Any] = {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": now_str(),
        "fieldsType": "FieldsV1",
        "fieldsV1": managed.to_fields_v1(leaves),
    }
    if subresource:
        e["subresource"] = subresource
    return e


def _same_owner(e: dict[str, Any], manager: str, operation: str, subresource: str) -> bool:
    return (
        e.get("manager") == manager
        and e.get("operation") == operation
        and (e.get("subresource") or "") == subresource
    )


def _merge(current: Any, applied: Any, spec: Spec | None) -> Any:
    if isinstance(applied, dict) and isinstance(current, dict) and not (spec is not None and spec.free_form):
        for k, v in applied.items():
            sub = None
            if spec is not None:
                sub = (
                    spec.fields.get(k) if spec.form == "struct" else spec.elem if spec.form == "map" else None
                )
            current[k] = _merge(current.get(k), v, sub) if k in current else v
        return current
    if isinstance(applied, list) and isinstance(current, list) and spec is not None and spec.form == "list":
        if spec.set_merge:
            return current + [x for x in applied if x not in current]
        if spec.merge_key and all(isinstance(x, dict) for x in applied + current):
            out = list(current)
            for item in applied:
                ident = spec.element_id(item)
                at = next((i for i, o in enumerate(out) if spec.element_id(o) == ident), None)
                if at is None:
                    out.append(item)
                else:
                    out[at] = _merge(out[at], item, spec.elem)
            return out
    return applied


def _conflict_error(conflicts: list[tuple[str, str, Path]]) -> ApiError:
    by_manager: dict[str, list[str]] = {}
    for manager, api_version, path in conflicts:
        by_manager.setdefault(f'"{manager}" using {api_version}', []).append(managed.render(path))
    n = len(conflicts)
    plural = "s" if n != 1 else ""
    if n == 1:
        ((who, paths),) = by_manager.items()
        message = f"Apply failed with 1 conflict: conflict with {who}: {paths[0]}"
    else:
        parts = []
        for who, paths in by_manager.items():
            lines = "\n".join(f"- {p}" for p in paths)
            parts.append(f"conflict{'s' if len(paths) > 1 else ''} with {who}:\n{lines}")
        message = f"Apply failed with {n} conflict{plural}: " + "\n".join(parts)
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f'conflict with "{m}" using {v}',
            "field": managed.render(p),
        }
        for m, v, p in conflicts
    ]
    return ApiError(409, "Conflict", message, {"causes": causes})


def _last_applied_fields(current: dict[str, Any], spec: Spec | None, api_version: str) -> set[Path]:
    """The fields of `current`'s last-applied-configuration annotation (same apiVersion) whose live
    value is still the one applied: those kube-apiserver lets the manager `kubectl` take over from
    a client-side apply (its upgrade path from client-side to server-side apply)."""
    annotations = (current.get("metadata") or {}).get("annotations") or {}
    try:
        last = loads(annotations.get(LAST_APPLIED) or "")
    except ValueError:
        return set()
    if not isinstance(last, dict) or last.get("apiVersion") != api_version:
        return set()
    return {
        p
        for p in managed.leaves_of(last, spec)
        if managed.lookup(last, p, spec) == managed.lookup(current, p, spec)
    }


def server_side_apply(
    current: dict[str, Any] | None, applied: dict[str, Any], manager: str, force: bool, kind: str
) -> dict[str, Any]:
    spec = kind_spec(kind)
    api_version = str(applied.get("apiVersion") or (current or {}).get("apiVersion") or "v1")
    new_leaves = managed.leaves_of(applied, spec)
    if current is None:
        result = _copy(applied)
        result.setdefault("metadata", {})["managedFields"] = [
            _entry(manager, "Apply", api_version, new_leaves)
        ]
        return result

    result = _copy(current)
    entries = _entries(current)
    mine = next((e for e in entries if _same_owner(e, manager, "Apply", "")), None)
    old_leaves = managed.from_fields_v1(mine.get("fieldsV1")) if mine else set()
    others = [(e, managed.from_fields_v1(e.get("fieldsV1"))) for e in entries if e is not mine]

    conflicts: list[tuple[str, str, Path]] = []
    taken: set[Path] = set()
    for e, owned in others:
        if (e.get("subresource") or "") != "" or e.get("manager") == manager:
            continue
        for path in sorted(new_leaves & owned):
            if path[-1] == ".":
                continue
            if managed.lookup(current, path, spec) != managed.lookup(applied, path, spec):
                conflicts.append((str(e.get("manager")), str(e.get("apiVersion") or api_version), path))
                taken.add(path)
    if conflicts and not force and manager == "kubectl":
        # kubectl's own server-side apply takes over, without a conflict, the fields its
        # client-side apply set before and nobody has changed since
        allowed = _last_applied_fields(current, spec, api_version)
        conflicts = [c for c in conflicts if c[2] not in allowed]
    if conflicts and not force:
        raise _conflict_error(conflicts)

    owned_by_others = set().union(*(o for _, o in others)) - taken if others else set()
    gone = old_leaves - new_leaves - owned_by_others
    still_owned = owned_by_others | new_leaves
    # Whole list elements first (their key is needed to find them), then single fields.
    elements = [
        p[:-1] for p in gone if p[-1] == "." and not any(q[: len(p) - 1] == p[:-1] for q in still_owned)
    ]
    for element in elements:
        managed.remove(result, element, spec)
    for path in sorted(gone, key=len, reverse=True):
        if path[-1] != "." and not any(path[: len(e)] == e for e in elements):
            managed.remove(result, path, spec)

    applied_body = {k: v for k, v in applied.items() if k not in ("status",)}
    meta = dict(applied_body.get("metadata") or {})
    for k in managed.SERVER_META:
        meta.pop(k, None)
    applied_body["metadata"] = meta
    result = _merge(result, _copy(applied_body), spec)

    kept: list[dict[str, Any]] = []
    for e, owned in others:
        if e.get("subresource"):
            kept.append(e)
            continue
        left = owned - taken
        if left:
            kept.append(e if left == owned else {**e, "fieldsV1": managed.to_fields_v1(left)})
    kept.append(_entry(manager, "Apply", api_version, new_leaves))
    result.setdefault("metadata", {})["managedFields"] = kept
    return result


def record_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    operation: str = "Update",
    subresource: str = "",
    kind: str | None = None,
) -> None:
    """Give `manager` the fields this write changed; other managers lose them (no conflicts)."""
    spec = kind_spec(kind or str(new.get("kind") or ""))
    new_leaves = managed.leaves_of(new, spec)
    if old is None:
        changed = new_leaves
    else:
        changed = {p for p in new_leaves if managed.lookup(old, p, spec) != managed.lookup(new, p, spec)}
    entries = _entries(old) if old is not None else _entries(new)
    sent = [e for e in _entries(new) if isinstance(e, dict)]
    if old is not None and not subresource and sent and sent != entries:
        # managedFields written by the client replace the stored ones (kubectl's move of a
        # client-side apply's fields to its server-side manager is such a JSON patch)
        entries = sent
    out: list[dict[str, Any]] = []
    mine: dict[str, Any] | None = None
    for e in entries:
        if _same_owner(e, manager, operation, subresource):
            mine = e
            continue
        owned = managed.from_fields_v1(e.get("fieldsV1"))
        left = owned - changed
        if left:
            out.append(e if left == owned else {**e, "fieldsV1": managed.to_fields_v1(left)})
    mine_leaves = (managed.from_fields_v1(mine.get("fieldsV1")) if mine else set()) | changed
    mine_leaves = {p for p in mine_leaves if p in new_leaves}
    if mine_leaves:
        out.append(_entry(manager, operation, str(new.get("apiVersion") or "v1"), mine_leaves, subresource))
    new.setdefault("metadata", {})["managedFields"] = out

"""One door to the pure API logic written beside this package (schema, defaults, validation,
tables, discovery, OpenAPI, patches), so handlers call one name per decision.

Each function is imported on first use; while a module has not landed yet, a minimal stand-in
keeps the HTTP layer working (no defaults, no validation, a Name/Age table, RFC 7386 merge
patches). The stand-ins are not the product: they only let the server run during bring-up.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from api.errors import Cause, unsupported_media_type
from api.resources import Resource

log = logging.getLogger(__name__)
_cache: dict[str, Callable[..., Any] | None] = {}


def _find(module: str, name: str) -> Callable[..., Any] | None:
    key = f"{module}.{name}"
    if key not in _cache:
        try:
            _cache[key] = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as e:
            log.warning("%s not available (%s): using the HTTP layer's stand-in", key, e)
            _cache[key] = None
    return _cache[key]


def unknown_fields(kind: str, obj: dict[str, Any]) -> list[str]:
    f = _find("apiserver.schema", "unknown_fields")
    return list(f(kind, obj)) if f else []


def apply_defaults(res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
    f = _find("apiserver.defaults", "apply_defaults")
    if f is None:
        return obj
    out = f(res, obj)
    return obj if out is None else out


def validate(res: Resource, obj: dict[str, Any], old: dict[str, Any] | None) -> list[Cause]:
    f = _find("apiserver.validation", "validate")
    return list(f(res, obj, old)) if f else []


def validate_status_update(res: Resource, obj: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    f = _find("apiserver.validation", "validate_status_update")
    return list(f(res, obj, old)) if f else []


def to_table(res: Resource, objs: list[dict[str, Any]], resource_version: str, include_object: str) -> dict[str, Any]:
    f = _find("apiserver.tables", "to_table")
    if f is not None:
        return f(res, objs, resource_version, include_object)
    rows = []
    for o in objs:
        meta = o.get("metadata") or {}
        row_obj = o if include_object == "Object" else {
            "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
        rows.append({"cells": [meta.get("name", ""), meta.get("creationTimestamp", "")],
                     "object": None if include_object == "None" else row_obj})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": [
                {"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0},
                {"name": "Created At", "type": "date", "format": "", "description": "", "priority": 0}],
            "rows": rows}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def apply_patch(content_type: str, current: dict[str, Any], body: bytes, kind: str) -> dict[str, Any]:
    f = _find("apiserver.patch", "apply_patch")
    if f is not None:
        return f(content_type, current, body, kind)
    from api import jsonutil

    if content_type in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
        return merge_patch(current, jsonutil.loads(body))
    raise unsupported_media_type(content_type)


def server_side_apply(current: dict[str, Any] | None, applied: dict[str, Any], manager: str, force: bool,
                      kind: str) -> dict[str, Any]:
    f = _find("apiserver.patch", "server_side_apply")
    if f is not None:
        return f(current, applied, manager, force, kind)
    return merge_patch(current or {}, applied)


def record_update(old: dict[str, Any] | None, new: dict[str, Any], manager: str, subresource: str = "") -> None:
    """managedFields for a non-apply write by `manager` (in place)."""
    f = _find("apiserver.patch", "record_update")
    if f is not None:
        f(old, new, manager, "Update", subresource, None)

"""One door to the pure API logic beside this package (schema, defaults, validation, tables,
patches), so the handlers and the registry call one name per decision and stay independent of
how those modules are split.
"""

from __future__ import annotations

from typing import Any

from api.errors import Cause
from api.resources import Resource
from apiserver import defaults, patch, schema, tables, validation


def unknown_fields(kind: str, obj: dict[str, Any]) -> list[str]:
    return schema.unknown_fields(kind, obj)


def type_causes(res: Resource, obj: Any) -> list[Cause]:
    """One cause per field whose JSON type is not the declared one (what Go's decoding refuses)."""
    if not isinstance(obj, dict):
        return [{"reason": "FieldValueInvalid", "message": "the object must be a JSON object", "field": ""}]
    return [
        {"reason": "FieldValueInvalid", "message": msg, "field": path}
        for path, msg in schema.type_errors(res.kind, obj)
    ]


def apply_defaults(res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
    defaults.apply_defaults(res, obj)  # in place
    return obj


def validate(res: Resource, obj: dict[str, Any], old: dict[str, Any] | None) -> list[Cause]:
    return validation.validate(res, obj, old)


def validate_status_update(res: Resource, obj: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    return validation.validate_status_update(res, obj, old)


def to_table(
    res: Resource, objs: list[dict[str, Any]], resource_version: str, include_object: str
) -> dict[str, Any]:
    return tables.to_table(res, objs, resource_version, include_object)


def apply_patch(content_type: str, current: dict[str, Any], body: bytes, kind: str) -> dict[str, Any]:
    return patch.apply_patch(content_type, current, body, kind)


def server_side_apply(
    current: dict[str, Any] | None, applied: dict[str, Any], manager: str, force: bool, kind: str
) -> dict[str, Any]:
    return patch.server_side_apply(current, applied, manager, force, kind)


def record_update(
    old: dict[str, Any] | None, new: dict[str, Any], manager: str, subresource: str = ""
) -> None:
    """managedFields for a non-apply write by `manager` (in place)."""
    patch.record_update(old, new, manager, "Update", subresource, None)

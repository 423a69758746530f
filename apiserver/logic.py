"""One door to the pure API logic (schema, the kinds' strategy rows, validation, tables,
patches), so the handlers and the registry call one name per decision and stay independent of
how those modules are split.

How stored bytes become served ones is decided here too: synchronously (`served_bytes`) for every
resource but the custom resources of a CRD whose conversion is a webhook, which are converted by
that webhook (`webhook_converter`, async I/O; one dict lookup tells every other resource apart).

`validate` is kube's order for every kind: JSON types first (a wrong type stops further
checks), then metadata with the kind's name rule, the kind's own rules, and on update the
immutable metadata and the kind's update rules.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from api import jsonutil
from api.errors import ApiError, Cause
from api.resources import Resource, is_dynamic
from api.selectors import FieldSelector
from apiserver import kinds, patch, schema, tables
from apiserver.crd import hooks as crd_hooks
from apiserver.validation import type_causes as _type_causes
from apiserver.validation.meta import validate_object_meta, validate_object_meta_update

Obj = dict[str, Any]


def unknown_fields(kind: str, obj: dict[str, Any]) -> list[str]:
    custom = crd_hooks.unknown_fields(kind, obj)  # a custom resource: its CRD's schema decides
    return schema.unknown_fields(kind, obj) if custom is None else custom


def type_causes(res: Resource, obj: Any) -> list[Cause]:
    """One cause per field whose JSON type is not the declared one (what Go's decoding refuses)."""
    if not isinstance(obj, dict):
        return [{"reason": "FieldValueInvalid", "message": "the object must be a JSON object", "field": ""}]
    if is_dynamic(res):  # a custom kind named like a built-in one is not that kind
        return []
    return [
        {"reason": "FieldValueInvalid", "message": msg, "field": path}
        for path, msg in schema.type_errors(res.type_name, obj)
    ]


def served_bytes(res: Resource) -> Callable[[bytes], bytes] | None:
    """How the stored bytes of `res` become the bytes served, None when they are served as stored
    (or by a conversion webhook, `webhook_converter`): a view's conversion (events.k8s.io Events
    over the core ones), a custom resource's version (conversion strategy None)."""
    view = kinds.for_resource(res).view
    if view is not None:
        return view.read_bytes
    if crd_hooks.converts(res.group, res.plural):
        return partial(crd_hooks.as_version, res.api_version)
    return None


def webhook_converter(res: Resource) -> crd_hooks.Converter | None:
    """The conversion webhook the objects of `res` are read and written through: only for the
    custom resources of a CRD with conversion strategy Webhook, None for every other resource."""
    return crd_hooks.webhook(res.group, res.plural)


async def served_values(res: Resource, values: list[bytes], listed: bool = False) -> list[bytes]:
    """Stored bytes of `res` as served (the same list when they are served as stored); `listed`:
    the objects of a list, converted by a webhook in one review."""
    convert = crd_hooks.webhook(res.group, res.plural)
    if convert is not None:
        return await convert.convert(res.api_version, values, listed)
    read = served_bytes(res)
    return values if read is None else [read(v) for v in values]


async def stored_object(res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
    """What is stored for an object written in the served shape of `res`: a view's stored shape,
    a custom resource of a webhook-converting CRD converted to its storage version."""
    convert = crd_hooks.webhook(res.group, res.plural)
    if convert is not None:
        if obj.get("apiVersion") == convert.storage:
            return obj
        [stored] = await convert.convert(convert.storage, [jsonutil.dumps(obj)])
        return jsonutil.loads(stored)
    view = kinds.for_resource(res).view
    return obj if view is None else view.write(obj)


def stored_fields(res: Resource, fields: FieldSelector) -> FieldSelector:
    """A field selector on the served shape, on the stored fields it is matched against."""
    view = kinds.for_resource(res).view
    return fields if view is None else fields.renamed(view.field_labels)


def apply_defaults(res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
    fill = kinds.for_resource(res).defaults
    if fill is not None and isinstance(obj, dict):
        fill(obj)  # in place
    return obj


def validate(res: Resource, obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[Cause]:
    """Causes against a create (`old` None) or a main write over `old`; call after defaulting."""
    causes = _type_causes(res, obj, old) if not is_dynamic(res) else []  # a custom kind: its schema checks
    if causes:
        return causes
    row = kinds.for_resource(res)
    causes = validate_object_meta(obj.get("metadata"), res.namespaced, row.name_rule)
    if row.validate is not None:
        causes += row.validate(obj)
    if old is None and row.validate_create is not None:
        causes += row.validate_create(obj)
    if old is not None:
        causes += validate_object_meta_update(obj.get("metadata"), old.get("metadata"))
        if row.validate_update is not None:
            causes += row.validate_update(obj, old)
    return causes


def _write_over(
    res: Resource,
    obj: dict[str, Any],
    old: dict[str, Any],
    rules: list[Callable[[Obj, Obj], list[Cause]] | None],
) -> list[Cause]:
    """A subresource write's causes: JSON types (which stop further checks), metadata and its
    immutable parts, then `rules` (new, old) in order."""
    causes = _type_causes(res, obj, old) if not is_dynamic(res) else []  # a custom kind: its schema checks
    if causes:
        return causes
    causes = validate_object_meta(obj.get("metadata"), res.namespaced, kinds.for_resource(res).name_rule)
    causes += validate_object_meta_update(obj.get("metadata"), old.get("metadata"))
    for rule in rules:
        if rule is not None:
            causes += rule(obj, old)
    return causes


def validate_status_update(res: Resource, obj: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    """Causes against a write to `<plural>/status`."""
    return _write_over(res, obj, old, [kinds.for_resource(res).validate_status])


def validate_subresource_write(
    res: Resource, obj: dict[str, Any], old: dict[str, Any], write: kinds.SubresourceWrite
) -> list[Cause]:
    """Causes against a write to a subresource of the row's `subresource_writes`: its own rules."""
    return _write_over(res, obj, old, [write.validate])


def to_table(
    res: Resource, objs: list[dict[str, Any]], resource_version: str, include_object: str
) -> dict[str, Any]:
    return tables.to_table(res, objs, resource_version, include_object)


def apply_patch(content_type: str, current: dict[str, Any], body: bytes, kind: str) -> dict[str, Any]:
    if content_type == "application/strategic-merge-patch+json" and crd_hooks.is_custom(current, kind):
        raise ApiError(
            415,
            "UnsupportedMediaType",  # kube: custom resources have no patch strategies
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        )
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

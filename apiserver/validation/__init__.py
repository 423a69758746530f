"""Validation of the served kinds, as kube-apiserver does it, returning Status causes.

The per-kind rules live in the modules beside this one (`pod`, `service`, `others`, ...) and
are named by each kind's strategy row (`apiserver.kinds`); `apiserver.logic.validate` runs
them in kube's order: JSON types first (a wrong type stops further checks, as Go's decoding
would), then metadata with the kind's name rule, the kind's own rules, and on update the
immutable metadata and the kind's update rules. This module holds what every kind shares:

- `type_causes(resource, obj, old=None)`: one cause per value of the wrong JSON type; on an
  update only the top-level sections that changed are walked (`changed_sections`).
- `validate_binding(obj)`, `validate_scale(obj)`: subresource bodies.

An empty list means valid; otherwise the handler answers
`api.errors.invalid(resource.kind, name, causes, group)` (422 Invalid, one cause per bad field,
e.g. `{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers"}`).
Never raises on odd input.
"""

from __future__ import annotations

from typing import Any

from api import jsonutil
from api.errors import Cause, field_invalid
from api.resources import Resource
from apiserver.schema import type_errors
from apiserver.validation.others import validate_binding, validate_scale

__all__ = ["changed_sections", "type_causes", "validate_binding", "validate_scale"]

Obj = dict[str, Any]


def type_causes(resource: Resource, obj: Any, old: Obj | None = None) -> list[Cause]:
    if not isinstance(obj, dict):
        return [field_invalid("", "", "the object must be a JSON object")]
    if old is not None:  # an update: a top-level section serialised byte for byte as stored was checked then
        obj = changed_sections(obj, old)
    return [
        {"reason": "FieldValueInvalid", "message": msg, "field": path}
        for path, msg in type_errors(resource.type_name, obj)
    ]


def changed_sections(obj: Obj, old: Obj) -> Obj:
    """`obj` without the top-level values that serialise exactly as in `old` (a status write
    leaves `spec` as stored: walking it again was most of a kubelet's status update). Bytes, not
    ==, decide: 1 == 1.0 == True in Python, not in JSON."""
    return {
        k: v
        for k, v in obj.items()
        if k not in old or (v is not old[k] and jsonutil.dumps(v) != jsonutil.dumps(old[k]))
    }

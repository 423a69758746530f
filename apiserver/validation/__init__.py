"""Validation of the served kinds, as kube-apiserver does it, returning Status causes.

- `validate(resource, obj, old=None) -> list[Cause]`: create when `old` is None, update
  otherwise (metadata identity immutable; pod spec frozen but for images, activeDeadlineSeconds
  and added tolerations; service clusterIP; node podCIDRs). Call after `apply_defaults`.
- `validate_status_update(resource, obj, old) -> list[Cause]`: a write to `<plural>/status`.
- `validate_binding(obj)`, `validate_scale(obj)`: subresource bodies.

An empty list means valid; otherwise the handler answers
`api.errors.invalid(resource.kind, name, causes, group)` (422 Invalid, one cause per bad field,
e.g. `{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers"}`).
Values of the wrong JSON type are reported first, one cause each, and stop further checks
(the real server rejects them while decoding, with 400; handlers that want that exact
behaviour call `apiserver.schema.type_errors` before this). Never raises on odd input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api import jsonutil
from api.errors import Cause, field_invalid
from api.resources import Resource
from apiserver.schema import type_errors
from apiserver.validation import names
from apiserver.validation.meta import validate_object_meta, validate_object_meta_update
from apiserver.validation.names import NameCheck
from apiserver.validation.others import (
    validate_binding,
    validate_endpoints,
    validate_event,
    validate_lease,
    validate_namespace,
    validate_node,
    validate_node_update,
    validate_replication_controller,
    validate_scale,
)
from apiserver.validation.pod import validate_pod_spec, validate_pod_update
from apiserver.validation.service import validate_service, validate_service_update

__all__ = ["validate", "validate_binding", "validate_scale", "validate_status_update"]

Obj = dict[str, Any]

NAME_RULES: dict[str, NameCheck] = {
    "namespaces": names.is_dns1123_label,
    "services": names.is_dns1035_label,
}


def _pod(obj: Obj) -> list[Cause]:
    return validate_pod_spec(obj.get("spec"), "spec", for_pod=True)


_CREATE: dict[str, Callable[[Obj], list[Cause]]] = {
    "pods": _pod,
    "replicationcontrollers": validate_replication_controller,
    "services": validate_service,
    "namespaces": validate_namespace,
    "nodes": validate_node,
    "endpoints": validate_endpoints,
    "events": validate_event,
    "leases": validate_lease,
}


def _update_rules(resource: Resource, obj: Obj, old: Obj) -> list[Cause]:
    if resource.plural == "pods":
        return validate_pod_update(obj.get("spec"), old.get("spec"))
    if resource.plural == "services":
        return validate_service_update(obj, old)
    if resource.plural == "nodes":
        return validate_node_update(obj, old)
    return []


def _type_causes(resource: Resource, obj: Any, old: Obj | None = None) -> list[Cause]:
    if not isinstance(obj, dict):
        return [field_invalid("", "", "the object must be a JSON object")]
    if old is not None:  # an update: a top-level section serialised byte for byte as stored was checked then
        obj = changed_sections(obj, old)
    return [{"reason": "FieldValueInvalid", "message": msg, "field": path}
            for path, msg in type_errors(resource.kind, obj)]


def changed_sections(obj: Obj, old: Obj) -> Obj:
    """`obj` without the top-level values that serialise exactly as in `old` (a status write
    leaves `spec` as stored: walking it again was most of a kubelet's status update). Bytes, not
    ==, decide: 1 == 1.0 == True in Python, not in JSON."""
    return {k: v for k, v in obj.items()
            if k not in old or (v is not old[k] and jsonutil.dumps(v) != jsonutil.dumps(old[k]))}


def validate(resource: Resource, obj: Obj, old: Obj | None = None) -> list[Cause]:
    causes = _type_causes(resource, obj, old)
    if causes:
        return causes
    rule = NAME_RULES.get(resource.plural, names.is_dns1123_subdomain)
    causes = validate_object_meta(obj.get("metadata"), resource.namespaced, rule)
    check = _CREATE.get(resource.plural)
    if check is not None:
        causes += check(obj)
    if old is not None:
        causes += validate_object_meta_update(obj.get("metadata"), old.get("metadata"))
        causes += _update_rules(resource, obj, old)
    return causes


def _pod_status(obj: Obj) -> list[Cause]:
    raw = obj.get("status")
    status: Obj = raw if isinstance(raw, dict) else {}
    causes: list[Cause] = []
    for key in ("podIPs", "hostIPs"):
        for i, entry in enumerate(status.get(key) or []):
            ip = (entry or {}).get("ip") if isinstance(entry, dict) else None
            if ip:
                causes += [field_invalid(f"status.{key}[{i}].ip", ip, m) for m in names.is_ip(str(ip))]
    for key in ("containerStatuses", "initContainerStatuses"):
        for i, cs in enumerate(status.get(key) or []):
            if isinstance(cs, dict) and isinstance(cs.get("restartCount"), int) and cs["restartCount"] < 0:
                causes.append(field_invalid(f"status.{key}[{i}].restartCount", cs["restartCount"],
                                            names.NON_NEGATIVE_MSG))
    if status.get("nominatedNodeName"):
        causes += names.check("status.nominatedNodeName", str(status["nominatedNodeName"]), names.is_dns1123_subdomain)
    return causes


def validate_status_update(resource: Resource, obj: Obj, old: Obj) -> list[Cause]:
    causes = _type_causes(resource, obj, old)
    if causes:
        return causes
    rule = NAME_RULES.get(resource.plural, names.is_dns1123_subdomain)
    causes = validate_object_meta(obj.get("metadata"), resource.namespaced, rule)
    causes += validate_object_meta_update(obj.get("metadata"), old.get("metadata"))
    if resource.plural == "pods":
        causes += _pod_status(obj)
    elif resource.plural == "namespaces":
        causes += validate_namespace(obj)
    elif resource.plural == "nodes":
        causes += validate_node(obj)
    return causes

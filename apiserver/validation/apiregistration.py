"""Validation of APIService (apiregistration.k8s.io/v1) as kube-aggregator words it
(pkg/apis/apiregistration/validation: ValidateAPIService, ValidateAPIServiceStatus).

The name is a path segment (the row's name rule) and must be `<spec.version>.<spec.group>`; only
v1 may have an empty group (the legacy core group); the group is a DNS-1123 subdomain and the
version a DNS-1035 label; groupPriorityMinimum is 1..20000 and versionPriority 1..1000 (kube's
messages say "less than", its checks allow the bounds). A Local APIService (no service) may have
neither caBundle nor insecureSkipTLSVerify; a service needs its namespace, name and a valid port,
and insecureSkipTLSVerify may not come with a caBundle. Status conditions are True, False or
Unknown. Everything may change on update (kube checks no more than the object's own rules).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from api import names
from api.errors import Cause, field_forbidden, field_invalid, field_not_supported, field_required
from apiserver.validation.rbac import is_path_segment_name

Obj = dict[str, Any]
CONDITION_STATUSES = ["True", "False", "Unknown"]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def ca_bundle_bytes(value: Any) -> bytes:
    """The caBundle's bytes (base64 on the wire); b"" when absent or not base64."""
    if not isinstance(value, str) or not value:
        return b""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return b""


def validate_api_service(obj: Obj) -> list[Cause]:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    group, version = str(spec.get("group") or ""), str(spec.get("version") or "")
    name = str((obj.get("metadata") or {}).get("name") or "")
    causes: list[Cause] = []
    required = f"{version}.{group}"
    if not is_path_segment_name(name) and name != required:
        causes.append(
            field_invalid("metadata.name", name, f'must be `spec.version+"."+spec.group`: "{required}"')
        )
    if not group and version != "v1":
        causes.append(
            field_required("spec.group", "only v1 may have an empty group and it better be legacy kube")
        )
    if group:
        causes += names.check("spec.group", group, names.is_dns1123_subdomain)
    causes += names.check("spec.version", version, names.is_dns1035_label)
    group_priority, version_priority = (
        _int(spec.get("groupPriorityMinimum")),
        _int(spec.get("versionPriority")),
    )
    if not 0 < group_priority <= 20000:
        causes.append(
            field_invalid("spec.groupPriorityMinimum", group_priority, "must be positive and less than 20000")
        )
    if not 0 < version_priority <= 1000:
        causes.append(
            field_invalid("spec.versionPriority", version_priority, "must be positive and less than 1000")
        )
    ca_bundle = ca_bundle_bytes(spec.get("caBundle"))
    insecure = spec.get("insecureSkipTLSVerify") is True
    service = spec.get("service")
    if not isinstance(service, dict):
        if ca_bundle:
            causes.append(
                field_invalid(
                    "spec.caBundle", f"{len(ca_bundle)} bytes", "local APIServices may not have a caBundle"
                )
            )
        if insecure:
            causes.append(
                field_invalid(
                    "spec.insecureSkipTLSVerify", True, "local APIServices may not have insecureSkipTLSVerify"
                )
            )
        return causes
    if not group:  # the legacy core group is routed apart (/api/v1) and never relayed here
        causes.append(
            field_forbidden(
                "spec.service", "kubelite serves the core group (v1) itself; it cannot be delegated"
            )
        )
    if not service.get("namespace"):
        causes.append(field_required("spec.service.namespace"))
    if not service.get("name"):
        causes.append(field_required("spec.service.name"))
    port = service.get("port")
    if names.is_port_num(port):
        causes.append(field_invalid("spec.service.port", port, "port is not valid: " + names.PORT_RANGE_MSG))
    if insecure and ca_bundle:
        causes.append(
            field_invalid("spec.insecureSkipTLSVerify", True, "may not be true if caBundle is present")
        )
    return causes


def validate_api_service_status(new: Obj, old: Obj) -> list[Cause]:
    conditions = (new.get("status") or {}).get("conditions") if isinstance(new.get("status"), dict) else None
    causes: list[Cause] = []
    for i, c in enumerate(conditions if isinstance(conditions, list) else []):
        status = c.get("status") if isinstance(c, dict) else None
        if status not in CONDITION_STATUSES:
            causes.append(field_not_supported(f"status.conditions[{i}].status", status, CONDITION_STATUSES))
    return causes

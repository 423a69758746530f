"""ResourceQuota validation: kube's ValidateResourceQuota (non-negative quantities, known scopes,
the BestEffort scope only with pod counts) narrowed to what kubelite enforces: a hard resource it
does not compute (`api.quota.supported`), a scope other than Terminating, NotTerminating,
BestEffort and NotBestEffort, or a scopeSelector is refused (422) rather than stored and ignored.
"""

from __future__ import annotations

from typing import Any

from api.errors import Cause, field_duplicate, field_invalid, field_not_supported
from api.jsonutil import as_object
from api.quantity import parse_quantity
from api.quota import POD_SCOPES, supported

Obj = dict[str, Any]

NON_NEGATIVE = "must be greater than or equal to 0"
_BEST_EFFORT_OK = {"pods", "count/pods"}


def validate_quota(obj: Obj) -> list[Cause]:
    spec = as_object(obj.get("spec"))
    out: list[Cause] = []
    hard = as_object(spec.get("hard"))
    for name, value in hard.items():
        path = f"spec.hard[{name}]"
        if not supported(name):
            out.append(
                field_invalid(
                    path,
                    name,
                    "kubelite does not count this resource (it counts pods, requests.*, limits.*, services, "
                    "services.nodeports, services.loadbalancers, persistentvolumeclaims, requests.storage, "
                    "configmaps, secrets, replicationcontrollers, resourcequotas and count/<kind>)",
                )
            )
            continue
        try:
            if parse_quantity(value) < 0:
                out.append(field_invalid(path, value, NON_NEGATIVE))
        except (TypeError, ValueError, ArithmeticError):
            continue  # the type check names it
    scopes = spec.get("scopes") or []
    seen: set[str] = set()
    for i, scope in enumerate(scopes if isinstance(scopes, list) else []):
        if scope not in POD_SCOPES:
            out.append(field_not_supported(f"spec.scopes[{i}]", scope, list(POD_SCOPES)))
        if scope in seen:
            out.append(field_duplicate(f"spec.scopes[{i}]", scope))
        seen.add(scope)
    if {"Terminating", "NotTerminating"} <= seen or {"BestEffort", "NotBestEffort"} <= seen:
        out.append(field_invalid("spec.scopes", scopes, "conflicting scopes"))
    if "BestEffort" in seen:
        for name in hard:
            if name not in _BEST_EFFORT_OK:
                out.append(field_invalid(f"spec.hard[{name}]", name, "unsupported scope applied to resource"))
    if spec.get("scopeSelector"):
        out.append(
            field_invalid(
                "spec.scopeSelector",
                "<selector>",
                "kubelite does not match quotas by scopeSelector; use spec.scopes",
            )
        )
    return out

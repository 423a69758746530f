"""ResourceQuota validation: kube's ValidateResourceQuota (non-negative quantities, known scopes,
the BestEffort scope only with pod counts) narrowed to what kubelite enforces: a hard resource it
does not compute (`api.quota.supported`) is refused (422) rather than stored and ignored. Scopes
and a scopeSelector's requirements are checked together, as kube merges them: a known scope
name, a known operator, values only for In and NotIn (which need some), Exists only for every
scope but PriorityClass, and no pair of contradicting scopes.
"""

from __future__ import annotations

from typing import Any

from api.errors import Cause, field_duplicate, field_invalid, field_not_supported, field_required
from api.jsonutil import as_object
from api.quantity import parse_quantity
from api.quota import EXISTS_ONLY_SCOPES, POD_SCOPES, SCOPE_OPERATORS, scope_requirements, supported

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
    out += _scope_selector(as_object(spec.get("scopeSelector")))
    named = {str(r.get("scopeName")) for r in scope_requirements(spec) if r.get("operator") == "Exists"}
    if {"Terminating", "NotTerminating"} <= named or {"BestEffort", "NotBestEffort"} <= named:
        out.append(field_invalid("spec.scopes", scopes, "conflicting scopes"))
    if "BestEffort" in named:
        for name in hard:
            if name not in _BEST_EFFORT_OK:
                out.append(field_invalid(f"spec.hard[{name}]", name, "unsupported scope applied to resource"))
    return out


def _scope_selector(selector: Obj) -> list[Cause]:
    """kube's ValidateScopeSelector: each requirement's scope, operator and values."""
    out: list[Cause] = []
    for i, raw in enumerate(selector.get("matchExpressions") or []):
        req, path = as_object(raw), f"spec.scopeSelector.matchExpressions[{i}]"
        scope, op, values = req.get("scopeName"), req.get("operator"), req.get("values") or []
        if scope not in POD_SCOPES:
            out.append(field_not_supported(f"{path}.scopeName", scope, list(POD_SCOPES)))
        if op not in SCOPE_OPERATORS:
            out.append(field_not_supported(f"{path}.operator", op, list(SCOPE_OPERATORS)))
        elif op in ("In", "NotIn") and not values:
            out.append(
                field_required(
                    f"{path}.values",
                    "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
                )
            )
        elif op in ("Exists", "DoesNotExist") and values:
            out.append(
                field_invalid(
                    f"{path}.values",
                    values,
                    "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector",
                )
            )
        if scope in EXISTS_ONLY_SCOPES and op in SCOPE_OPERATORS and op != "Exists":
            out.append(
                field_invalid(
                    f"{path}.operator",
                    op,
                    "must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
                )
            )
    return out

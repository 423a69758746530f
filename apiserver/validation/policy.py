"""Validation of PodDisruptionBudget as kube-apiserver words it (pkg/apis/policy/validation:
ValidatePodDisruptionBudget, ValidatePodDisruptionBudgetStatusUpdate).

A budget says either how many of its pods must stay available or how many may be unavailable,
never both; each is a non-negative count or a percentage up to 100%. Its selector must be a
valid label selector, and `unhealthyPodEvictionPolicy` one of the two policies the eviction
subresource knows. Status counts, written by the disruption controller and the eviction
subresource, may not go negative.
"""

from __future__ import annotations

from typing import Any

from api.errors import Cause, field_not_supported
from api.jsonutil import as_object
from apiserver.validation.meta import non_negative
from apiserver.validation.workloads import (
    go_int_or_string,
    go_selector,
    invalid_raw,
    validate_int_or_percent,
    validate_selector,
)

Obj = dict[str, Any]

UNHEALTHY_POD_EVICTION_POLICIES = ["AlwaysAllow", "IfHealthyBudget"]
BOTH_SET_MSG = "minAvailable and maxUnavailable cannot be both set"


def _go_intstr_ptr(value: Any) -> str:
    return "(*intstr.IntOrString)(nil)" if value is None else f"&{go_int_or_string(value)}"


def go_spec(spec: Obj) -> str:
    """policy.PodDisruptionBudgetSpec as Go's %#v prints it (pointers shown by what they hold)."""
    policy = spec.get("unhealthyPodEvictionPolicy")
    shown_policy = "(*policy.UnhealthyPodEvictionPolicyType)(nil)" if policy is None else f'&"{policy}"'
    selector = spec.get("selector")
    shown_selector = "(*v1.LabelSelector)(nil)" if selector is None else f"&{go_selector(selector)}"
    return (
        f"policy.PodDisruptionBudgetSpec{{MinAvailable:{_go_intstr_ptr(spec.get('minAvailable'))}, "
        f"Selector:{shown_selector}, MaxUnavailable:{_go_intstr_ptr(spec.get('maxUnavailable'))}, "
        f"UnhealthyPodEvictionPolicy:{shown_policy}}}"
    )


def validate_pdb_spec(spec: Obj, path: str = "spec") -> list[Cause]:
    causes: list[Cause] = []
    low, high = spec.get("minAvailable"), spec.get("maxUnavailable")
    if low is not None and high is not None:
        causes.append(invalid_raw(path, go_spec(spec), BOTH_SET_MSG))
    causes += validate_int_or_percent(low, f"{path}.minAvailable")
    causes += validate_int_or_percent(high, f"{path}.maxUnavailable")
    causes += validate_selector(spec.get("selector"), f"{path}.selector")
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in UNHEALTHY_POD_EVICTION_POLICIES:
        causes.append(
            field_not_supported(f"{path}.unhealthyPodEvictionPolicy", policy, UNHEALTHY_POD_EVICTION_POLICIES)
        )
    return causes


def validate_pdb(pdb: Obj) -> list[Cause]:
    return validate_pdb_spec(as_object(pdb.get("spec")))


def validate_pdb_status(new: Obj, old: Obj) -> list[Cause]:
    status = as_object(new.get("status"))
    causes: list[Cause] = []
    for key in ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"):
        causes += non_negative(f"status.{key}", status.get(key))
    return causes

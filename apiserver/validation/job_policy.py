"""A Job's podFailurePolicy, validated as kube-apiserver does (validatePodFailurePolicy and its
rules): at most 20 rules, each with a known action (FailIndex only with backoffLimitPerIndex) and
exactly one of onExitCodes (In/NotIn, 1-255 ordered unique codes, no 0 with In, a container of
the template) or onPodConditions (a qualified condition type, status True/False/Unknown).
"""

from __future__ import annotations

from typing import Any

from api import names
from api.errors import (
    Cause,
    field_duplicate,
    field_invalid,
    field_not_supported,
    field_required,
    field_too_many,
)
from api.jsonutil import as_object
from apiserver.validation.meta import one_of

Obj = dict[str, Any]
ACTIONS = ["Count", "FailIndex", "FailJob", "Ignore"]
OPERATORS = ["In", "NotIn"]
STATUSES = ["False", "True", "Unknown"]
MAX_RULES = 20
MAX_VALUES = 255


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _valid_values(values: list[str]) -> str:
    return "valid values: [" + " ".join(f'"{v}"' for v in values) + "]"


def _exit_codes(req: Obj, path: str, containers: set[str]) -> list[Cause]:
    causes: list[Cause] = []
    op = req.get("operator")
    causes += one_of(f"{path}.operator", op, OPERATORS, _valid_values(OPERATORS))
    name = req.get("containerName")
    if name is not None and name not in containers:
        causes.append(
            field_invalid(
                f"{path}.containerName",
                name,
                "must be one of the container or initContainer names in the pod template",
            )
        )
    values = [v for v in _list(req.get("values")) if isinstance(v, int)]
    shown = "[]int32{" + ", ".join(str(v) for v in values) + "}"
    if not values:
        causes.append(
            {
                "reason": "FieldValueInvalid",
                "field": f"{path}.values",
                "message": "Invalid value: []int32(nil): at least one value is required",
            }
        )
    elif len(values) > MAX_VALUES:
        causes.append(field_too_many(f"{path}.values", len(values), MAX_VALUES))
    else:
        seen: set[int] = set()
        for j, v in enumerate(values):
            if op == "In" and v == 0:
                causes.append(field_invalid(f"{path}.values[{j}]", v, "must not be 0 for the In operator"))
            if v in seen:
                causes.append(field_duplicate(f"{path}.values[{j}]", v))
            seen.add(v)
        if values != sorted(values):
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "field": f"{path}.values",
                    "message": f"Invalid value: {shown}: must be ordered",
                }
            )
    return causes


def _pod_conditions(patterns: list[Any], path: str) -> list[Cause]:
    causes: list[Cause] = []
    for j, pattern in enumerate(patterns):
        pattern, p = as_object(pattern), f"{path}[{j}]"
        kind = str(pattern.get("type") or "")
        causes += [field_invalid(f"{p}.type", kind, m) for m in names.is_qualified_name(kind)]
        causes += one_of(f"{p}.status", pattern.get("status"), STATUSES, _valid_values(STATUSES))
    return causes


def validate_pod_failure_policy(spec: Obj, path: str) -> list[Cause]:
    """`spec` is the JobSpec; `path` the podFailurePolicy's (`spec.podFailurePolicy`)."""
    rules = _list(as_object(spec.get("podFailurePolicy")).get("rules"))
    causes = [field_too_many(f"{path}.rules", len(rules), MAX_RULES)] if len(rules) > MAX_RULES else []
    pod = as_object(as_object(spec.get("template")).get("spec"))
    containers = {
        str(as_object(c).get("name")) for key in ("containers", "initContainers") for c in _list(pod.get(key))
    }
    for i, rule in enumerate(rules):
        rule, p = as_object(rule), f"{path}.rules[{i}]"
        action = rule.get("action")
        if not action:
            causes.append(field_required(f"{p}.action", _valid_values(ACTIONS)))
        elif action == "FailIndex":
            if spec.get("backoffLimitPerIndex") is None:
                causes.append(
                    field_invalid(f"{p}.action", action, "requires the backoffLimitPerIndex to be set")
                )
        elif action not in ACTIONS:
            causes.append(field_not_supported(f"{p}.action", action, ACTIONS))
        codes, conditions = rule.get("onExitCodes"), _list(rule.get("onPodConditions"))
        if codes is not None:
            causes += _exit_codes(as_object(codes), f"{p}.onExitCodes", containers)
        causes += _pod_conditions(conditions, f"{p}.onPodConditions")
        if codes is not None and conditions:
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "field": p,
                    "message": "Invalid value: specifying both OnExitCodes and OnPodConditions is not supported",
                }
            )
        if codes is None and not conditions:
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "field": p,
                    "message": "Invalid value: specifying one of OnExitCodes and OnPodConditions is required",
                }
            )
    return causes

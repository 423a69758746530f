"""Validation of PriorityClass as kube-apiserver words it (pkg/apis/scheduling/validation:
ValidatePriorityClass, ValidatePriorityClassUpdate; core's ValidatePreemptionPolicy).

Names starting with `system-` are kube's own: only the two system classes may carry them, with
exactly their value and globalDefault false, so that no user class can claim a system priority.
Any other class is capped at 1000000000, the highest user-definable priority. `value` and
`preemptionPolicy` never change: pods already hold the priority they were given. That at most
one class is the global default is the Priority admission plugin's rule, which needs the other
classes (`apiserver.priorityadmission`).
"""

from __future__ import annotations

from typing import Any

from api.errors import Cause, field_forbidden, field_not_supported, field_required
from apiserver.validation.meta import immutable

Obj = dict[str, Any]

SYSTEM_PREFIX = "system-"
HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY
# the classes kube-apiserver makes at start: name -> (value, description)
SYSTEM_CLASSES: dict[str, tuple[int, str]] = {
    "system-node-critical": (
        SYSTEM_CRITICAL_PRIORITY + 1000,
        "Used for system critical pods that must not be moved from their current node.",
    ),
    "system-cluster-critical": (
        SYSTEM_CRITICAL_PRIORITY,
        "Used for system critical pods that must run in the cluster, but can be moved to another node "
        "if necessary.",
    ),
}
PREEMPTION_POLICIES = ["PreemptLowerPriority", "Never"]


def _known_system_class(name: str, value: Any, global_default: bool) -> str:
    """Why `name` may not be used with these fields ("" when it may: kube's IsKnownSystemPriorityClass)."""
    known = SYSTEM_CLASSES.get(name)
    if known is None:
        return f"{name} is not a known system priority class"
    if value != known[0]:
        return f"value of {name} PriorityClass must be {known[0]}"
    if global_default:
        return f"globalDefault of {name} PriorityClass must be false"
    return ""


def validate_preemption_policy(policy: Any, path: str) -> list[Cause]:
    if policy == "":
        return [field_required(path, "")]
    if policy not in PREEMPTION_POLICIES:
        return [field_not_supported(path, policy, PREEMPTION_POLICIES)]
    return []


def validate_priority_class(pc: Obj) -> list[Cause]:
    causes: list[Cause] = []
    name = str((pc.get("metadata") or {}).get("name") or "")
    value = pc.get("value") or 0
    if name.startswith(SYSTEM_PREFIX):
        why = _known_system_class(name, value, bool(pc.get("globalDefault")))
        if why:
            causes.append(
                field_forbidden(
                    "metadata.name",
                    f"priority class names with '{SYSTEM_PREFIX}' prefix are reserved for system use only. "
                    f"error: {why}",
                )
            )
    elif isinstance(value, int) and value > HIGHEST_USER_DEFINABLE_PRIORITY:
        causes.append(
            field_forbidden(
                "value",
                f"maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}",
            )
        )
    if pc.get("preemptionPolicy") is not None:
        causes += validate_preemption_policy(pc["preemptionPolicy"], "preemptionPolicy")
    return causes


def validate_priority_class_update(new: Obj, old: Obj) -> list[Cause]:
    causes: list[Cause] = []
    if (new.get("value") or 0) != (old.get("value") or 0):
        causes.append(field_forbidden("value", "may not be changed in an update."))
    causes += immutable("preemptionPolicy", new.get("preemptionPolicy"), old.get("preemptionPolicy"))
    return causes

"""Short descriptions of PriorityClass and its fields, for OpenAPI and `kubectl explain` (written
for kubelite, in the style of `docs.py`)."""

from __future__ import annotations

SCHEDULING_DOCS: dict[str, str] = {
    "PriorityClass": "PriorityClass names a pod priority: a pod naming it in spec.priorityClassName is given "
    "its value as spec.priority when created.",
    "PriorityClass.value": "The priority pods of this class get; higher is more important. At most 1000000000 "
    "for classes other than the system ones. Cannot be changed.",
    "PriorityClass.globalDefault": "Pods created without a priorityClassName get this class. At most one class "
    "may be the global default.",
    "PriorityClass.description": "Free text saying when to use this class.",
    "PriorityClass.preemptionPolicy": "Whether pods of this class may preempt lower-priority pods: "
    "PreemptLowerPriority (the default) or Never. Cannot be changed.",
}

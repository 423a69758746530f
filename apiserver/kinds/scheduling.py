"""Row of PriorityClass (scheduling.k8s.io/v1) and the two system classes kube-apiserver makes.

- v1 defaulting gives a class `preemptionPolicy: PreemptLowerPriority`; `value` is an int32
  that Go always serializes, so a class sent without one holds 0. Generation starts at 1.
- At most one class is the global default: a create or update marking a second one is refused
  (403, the Priority admission plugin's words). It reads the stored classes, so it is a write
  hook (after validation, before the write); class writes are rare, a store read is fine.
- Every class write of this server reaches the Priority admission cache at once (`wrote`), so
  the next pod create sees it; other servers' writes arrive by its watch.
- `system-node-critical` and `system-cluster-critical` are made at bootstrap (`bootstrap`), as
  kube-apiserver's scheduling/bootstrap-system-priority-classes start hook does.
"""

from __future__ import annotations

from typing import Any

from api.resources import by_plural
from apiserver.kinds import HookContext, Obj, WriteHooks, row
from apiserver.kinds.defaultclass import stored_classes
from apiserver.priorityadmission import DEFAULT_PREEMPTION_POLICY, check_single_default
from apiserver.validation.scheduling import (
    SYSTEM_CLASSES,
    validate_priority_class,
    validate_priority_class_update,
)

PRIORITY_CLASSES = by_plural("scheduling.k8s.io", "priorityclasses")


def system_classes() -> list[Obj]:
    """The classes every server makes at bootstrap (fresh dicts: creating them fills metadata)."""
    return [
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": name},
            "value": value,
            "description": description,
        }
        for name, (value, description) in SYSTEM_CLASSES.items()
    ]


class PriorityClassHooks(WriteHooks):
    """One global default at most; the admission cache told of every write."""

    async def claim(self, ctx: HookContext, new: Obj, old: Obj | None) -> list[str]:
        if new.get("globalDefault") is True:
            check_single_default(await stored_classes(ctx, PRIORITY_CLASSES), new, creating=old is None)
        return []

    def wrote(self, ctx: HookContext, key: str, value: bytes | None) -> None:
        ctx.priority_classes.note(key, value)


def _defaults(obj: Obj) -> None:
    obj.setdefault("value", 0)
    if obj.get("preemptionPolicy") is None:
        obj["preemptionPolicy"] = DEFAULT_PREEMPTION_POLICY


row(
    "priorityclasses",
    "scheduling.k8s.io",
    generation=True,
    defaults=_defaults,
    validate=validate_priority_class,
    validate_update=validate_priority_class_update,
    hooks=PriorityClassHooks(),
)


async def bootstrap(registry: Any) -> None:
    assert PRIORITY_CLASSES is not None
    for pc in system_classes():
        await registry.ensure(PRIORITY_CLASSES, None, pc)

"""Table columns of PriorityClass and RuntimeClass, as kube-apiserver 1.33 prints them
(pkg/printers/internalversion: printPriorityClass, printRuntimeClass): the value as an integer,
globalDefault as a boolean (false when unset) and the preemption policy after the age; a
RuntimeClass's handler as written.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables

Obj = dict[str, Any]


def _class_row(pc: Obj, now: _dt.datetime) -> list[Any]:
    value = pc.get("value")
    return [
        tables.name_cell(pc),
        value if isinstance(value, int) else 0,
        pc.get("globalDefault") is True,
        tables.age_cell(pc, now),
        str(pc.get("preemptionPolicy") or ""),
    ]


_col = tables.column

tables.register(
    "priorityclasses",
    [
        tables.NAME_COLUMN,
        _col(
            "Value",
            "value represents the integer value of this priority class. This is the actual priority that "
            "pods receive when they have the name of this class in their pod spec.",
            type_="integer",
        ),
        _col(
            "Global-Default",
            "globalDefault specifies whether this PriorityClass should be considered as the default "
            "priority for pods that do not have any priority class. Only one PriorityClass can be marked "
            "as `globalDefault`. However, if more than one PriorityClasses exists with their "
            "`globalDefault` field set to true, the smallest value of such global default "
            "PriorityClasses will be used as the default priority.",
            type_="boolean",
        ),
        tables.AGE_COLUMN,
        _col(
            "PreemptionPolicy",
            "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, "
            "PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.",
        ),
    ],
    _class_row,
)


def _runtime_class_row(rc: Obj, now: _dt.datetime) -> list[Any]:
    return [tables.name_cell(rc), str(rc.get("handler") or ""), tables.age_cell(rc, now)]


tables.register(
    "runtimeclasses",
    # kube describes Handler with ObjectMeta's (absent) doc for "handler": an empty description
    [tables.NAME_COLUMN, _col("Handler", ""), tables.AGE_COLUMN],
    _runtime_class_row,
)

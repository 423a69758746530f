"""Table columns of LimitRange, as kube-apiserver 1.33 prints them (pkg/printers/internalversion:
printLimitRange): the name and when it was made, as a timestamp rather than an age.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables

Obj = dict[str, Any]


def _limit_range_row(lr: Obj, now: _dt.datetime) -> list[Any]:
    return [tables.name_cell(lr), str((lr.get("metadata") or {}).get("creationTimestamp") or "")]


tables.register(
    "limitranges",
    [
        tables.NAME_COLUMN,
        tables.column("Created At", "The time the LimitRange was created.", fmt="date"),
    ],
    _limit_range_row,
)

"""Table columns of LimitRange and ResourceQuota, as kube-apiserver 1.33 prints them
(pkg/printers/internalversion: printLimitRange, printResourceQuota): a LimitRange's creation as a
timestamp rather than an age; a quota's `used/hard` per resource, the limits.* ones apart.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables

Obj = dict[str, Any]


def _limit_range_row(lr: Obj, now: _dt.datetime) -> list[Any]:
    return [tables.name_cell(lr), str((lr.get("metadata") or {}).get("creationTimestamp") or "")]


def _quota_row(q: Obj, now: _dt.datetime) -> list[Any]:
    hard, used = (q.get("spec") or {}).get("hard") or {}, (q.get("status") or {}).get("used") or {}
    parts = [f"{name}: {used.get(name, '0')}/{hard[name]}" for name in sorted(hard)]
    return [
        tables.name_cell(q),
        tables.age_cell(q, now),
        ", ".join(p for p in parts if not p.startswith("limits.")),
        ", ".join(p for p in parts if p.startswith("limits.")),
    ]


tables.register(
    "resourcequotas",
    [
        tables.NAME_COLUMN,
        tables.AGE_COLUMN,
        tables.column("Request", "Used and hard of each resource the quota bounds but the limits."),
        tables.column("Limit", "Used and hard of each limits.* resource."),
    ],
    _quota_row,
)
tables.register(
    "limitranges",
    [
        tables.NAME_COLUMN,
        tables.column("Created At", "The time the LimitRange was created.", fmt="date"),
    ],
    _limit_range_row,
)

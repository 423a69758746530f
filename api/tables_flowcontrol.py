"""Table columns of FlowSchema and PriorityLevelConfiguration, as kube-apiserver 1.33 prints them
(pkg/printers/internalversion: printFlowSchema, printPriorityLevelConfiguration): a schema's level,
precedence, distinguisher (`<none>`) and MissingPL from its Dangling condition (`?` when none);
a level's type and, for a Limited level, its shares and queuing (`<none>` where there is none).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables

Obj = dict[str, Any]
NONE = "<none>"


def _schema_row(fs: Obj, now: _dt.datetime) -> list[Any]:
    spec = fs.get("spec") or {}
    missing = next(
        (
            str(c.get("status"))
            for c in (fs.get("status") or {}).get("conditions") or []
            if c.get("type") == "Dangling"
        ),
        "?",
    )
    method = (spec.get("distinguisherMethod") or {}).get("type")
    return [
        tables.name_cell(fs),
        str((spec.get("priorityLevelConfiguration") or {}).get("name") or ""),
        spec.get("matchingPrecedence") if isinstance(spec.get("matchingPrecedence"), int) else 0,
        str(method) if method else NONE,
        tables.age_cell(fs, now),
        missing,
    ]


def _level_row(pl: Obj, now: _dt.datetime) -> list[Any]:
    spec = pl.get("spec") or {}
    shares: Any = NONE
    queues: Any = NONE
    hand: Any = NONE
    length: Any = NONE
    limited = spec.get("limited")
    if isinstance(limited, dict):
        shares = limited.get("nominalConcurrencyShares", 0)
        queuing = (limited.get("limitResponse") or {}).get("queuing")
        if isinstance(queuing, dict):
            queues, hand, length = (
                queuing.get("queues"),
                queuing.get("handSize"),
                queuing.get("queueLengthLimit"),
            )
    return [
        tables.name_cell(pl),
        str(spec.get("type") or ""),
        shares,
        queues,
        hand,
        length,
        tables.age_cell(pl, now),
    ]


_col = tables.column

tables.register(
    "flowschemas",
    [
        tables.NAME_COLUMN,
        _col("PriorityLevel", "The name of the priority level this schema's requests go to."),
        _col("MatchingPrecedence", "Lower values match first.", type_="integer"),
        _col("DistinguisherMethod", "How requests of this schema are split into flows."),
        tables.AGE_COLUMN,
        _col(
            "MissingPL", "Whether the priority level this schema names is missing (its Dangling condition)."
        ),
    ],
    _schema_row,
)
tables.register(
    "prioritylevelconfigurations",
    [
        tables.NAME_COLUMN,
        _col("Type", "Whether requests of this level are Limited or Exempt from limits."),
        _col("NominalConcurrencyShares", "This level's share of the server's concurrency limit."),
        _col("Queues", "The number of queues of this level."),
        _col("HandSize", "The number of queues a flow is dealt (shuffle sharding)."),
        _col("QueueLengthLimit", "The most requests one queue holds."),
        tables.AGE_COLUMN,
    ],
    _level_row,
)

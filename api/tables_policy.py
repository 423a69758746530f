"""Table columns of PodDisruptionBudget, as kube-apiserver 1.33 prints them
(pkg/printers/internalversion: printPodDisruptionBudget): minAvailable and maxUnavailable as
their IntOrString text, `N/A` for the one not set, then the disruptions the status allows now.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables

Obj = dict[str, Any]


def _int_or_string(value: Any) -> str:
    return "N/A" if value is None else str(value)


def _pdb_row(pdb: Obj, now: _dt.datetime) -> list[Any]:
    spec = pdb.get("spec") if isinstance(pdb.get("spec"), dict) else {}
    status = pdb.get("status") if isinstance(pdb.get("status"), dict) else {}
    assert isinstance(spec, dict) and isinstance(status, dict)
    allowed = status.get("disruptionsAllowed")
    return [
        tables.name_cell(pdb),
        _int_or_string(spec.get("minAvailable")),
        _int_or_string(spec.get("maxUnavailable")),
        allowed if isinstance(allowed, int) and not isinstance(allowed, bool) else 0,
        tables.age_cell(pdb, now),
    ]


_col = tables.column

tables.register(
    "poddisruptionbudgets",
    [
        tables.NAME_COLUMN,
        _col("Min Available", "The minimum number of pods that must be available."),
        _col("Max Unavailable", "The maximum number of pods that may be unavailable."),
        _col(
            "Allowed Disruptions",
            "Calculated number of pods that may be disrupted at this time.",
            type_="integer",
        ),
        tables.AGE_COLUMN,
    ],
    _pdb_row,
)

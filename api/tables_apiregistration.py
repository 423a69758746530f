"""Table columns of APIService, as kube-aggregator prints them (its registry's ConvertToTable):
the name, the Service as `<namespace>/<name>` (`Local` without one), the Available condition's
status (`False (FailedDiscoveryCheck)` with its reason when not True; `Unknown` when there is
none yet), the age.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables

Obj = dict[str, Any]


def available_cell(svc: Obj) -> str:
    status = svc.get("status") if isinstance(svc.get("status"), dict) else {}
    assert isinstance(status, dict)
    for c in status.get("conditions") or []:
        if isinstance(c, dict) and c.get("type") == "Available":
            value = str(c.get("status") or "")
            return f"{value} ({c['reason']})" if value != "True" and c.get("reason") else value
    return "Unknown"


def _row(svc: Obj, now: _dt.datetime) -> list[Any]:
    spec = svc.get("spec") if isinstance(svc.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    ref = spec.get("service")
    service = f"{ref.get('namespace') or ''}/{ref.get('name') or ''}" if isinstance(ref, dict) else "Local"
    return [tables.name_cell(svc), service, available_cell(svc), tables.age_cell(svc, now)]


tables.register(
    "apiservices",
    [
        tables.NAME_COLUMN,
        tables.column("Service", "The reference to the service that hosts this API endpoint."),
        tables.column("Available", "Whether this service is available."),
        tables.AGE_COLUMN,
    ],
    _row,
)

"""Table columns of the RBAC kinds, as kube-apiserver prints them (printRole, printClusterRole:
Name and Created At; printRoleBinding, printClusterRoleBinding: Name, Role as `Kind/name`, Age,
and the subjects by kind in the wide columns).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables

Obj = dict[str, Any]
_CREATED = tables.column("Created At", "Time at which the object was created", "date")


def _role_row(role: Obj, now: _dt.datetime) -> list[Any]:
    return [tables.name_cell(role), (role.get("metadata") or {}).get("creationTimestamp") or ""]


def _subjects(binding: Obj, kind: str) -> str:
    names = []
    for s in binding.get("subjects") or []:
        if isinstance(s, dict) and s.get("kind") == kind:
            names.append(
                f"{s.get('namespace')}/{s.get('name')}" if kind == "ServiceAccount" else str(s.get("name"))
            )
    return ", ".join(names)


def _binding_row(binding: Obj, now: _dt.datetime) -> list[Any]:
    ref = binding.get("roleRef") or {}
    return [
        tables.name_cell(binding),
        f"{ref.get('kind')}/{ref.get('name')}",
        tables.age_cell(binding, now),
        _subjects(binding, "User"),
        _subjects(binding, "Group"),
        _subjects(binding, "ServiceAccount"),
    ]


_BINDING_COLUMNS = [
    tables.NAME_COLUMN,
    tables.column("Role", "Role"),
    tables.AGE_COLUMN,
    tables.column("Users", "Users in the roleBinding", priority=1),
    tables.column("Groups", "Groups in the roleBinding", priority=1),
    tables.column("ServiceAccounts", "ServiceAccounts in the roleBinding", priority=1),
]
for _plural in ("roles", "clusterroles"):
    tables.register(_plural, [tables.NAME_COLUMN, _CREATED], _role_row)
for _plural in ("rolebindings", "clusterrolebindings"):
    tables.register(_plural, _BINDING_COLUMNS, _binding_row)

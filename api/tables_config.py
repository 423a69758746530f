"""Table columns of ConfigMap, Secret and ServiceAccount, as kube-apiserver prints them
(pkg/printers/internalversion: printConfigMap, printSecret, printServiceAccount).

Data counts the keys of `data` (and `binaryData` for ConfigMaps); a ServiceAccount's Secrets
column counts its `secrets` references.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables

Obj = dict[str, Any]


def _count(value: Any) -> int:
    return len(value) if isinstance(value, (dict, list)) else 0


def _config_map_row(cm: Obj, now: _dt.datetime) -> list[Any]:
    return [
        tables.name_cell(cm),
        _count(cm.get("data")) + _count(cm.get("binaryData")),
        tables.age_cell(cm, now),
    ]


def _secret_row(secret: Obj, now: _dt.datetime) -> list[Any]:
    return [
        tables.name_cell(secret),
        secret.get("type") or "",
        _count(secret.get("data")),
        tables.age_cell(secret, now),
    ]


def _service_account_row(sa: Obj, now: _dt.datetime) -> list[Any]:
    return [tables.name_cell(sa), _count(sa.get("secrets")), tables.age_cell(sa, now)]


_DATA = tables.column("Data", "Number of keys in the data.", "integer")

tables.register("configmaps", [tables.NAME_COLUMN, _DATA, tables.AGE_COLUMN], _config_map_row)
tables.register(
    "secrets",
    [tables.NAME_COLUMN, tables.column("Type", "The type of the secret"), _DATA, tables.AGE_COLUMN],
    _secret_row,
)
tables.register(
    "serviceaccounts",
    [
        tables.NAME_COLUMN,
        tables.column("Secrets", "Number of secrets of the service account.", "integer"),
        tables.AGE_COLUMN,
    ],
    _service_account_row,
)

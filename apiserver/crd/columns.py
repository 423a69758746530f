"""Table columns of a custom resource from its `additionalPrinterColumns` (pure).

kube's CRD table convertor: a Name column, then one column per printer column (name, type,
format, description, priority as declared), each cell the first result of the column's JSONPath
(simple paths: `.spec.replicas`, `.status.conditions[0].type`, `['a.b']`, a field up to kube's
terminators with `\\` escaping one (`.metadata.annotations.example\\.com/x`), `[*]` and filters
`[?(@.type=="Ready")]`). Cells by type: integer/number/boolean/string kept when the value has
that JSON type (else empty), `date` shown as an age (`5m`), a string column of a non-string
value printed as JSONPath prints it. No declared columns gives the default Age column.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Callable
from typing import Any

from api.humanize import age
from api.tables import AGE_COLUMN, NAME_COLUMN, name_cell

Obj = dict[str, Any]
_TOKEN = re.compile(
    r"\.\.?((?:\\.|[^\s.,\[\]$@{}\\])+)|\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[\s*(-?\d+)\s*\]|\[\s*\*\s*\]"
    r"|\[\?\(@\.([A-Za-z0-9_.\-]+)\s*(==|!=)\s*['\"]?([^'\")]*)['\"]?\s*\)\]"
)
DEFAULT_COLUMNS = (
    {
        "name": "Age",
        "type": "date",
        "jsonPath": ".metadata.creationTimestamp",
        "description": AGE_COLUMN["description"],
    },
)


def jsonpath(obj: Any, path: str) -> list[Any]:
    """Every value the JSONPath names (kube's subset for printer columns)."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if text.startswith("$"):
        text = text[1:]
    current = [obj]
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            return []
        pos = m.end()
        field = m.group(1)
        # a field's escapes (`crossplane\.io/usage-details`): kube drops every backslash; `*` is all
        name = field.replace("\\", "") if field and field != "*" else m.group(2) or m.group(3)
        nxt: list[Any] = []
        for value in current:
            if name is not None:
                if isinstance(value, dict) and name in value:
                    nxt.append(value[name])
            elif m.group(4) is not None:
                i = int(m.group(4))
                if isinstance(value, list) and -len(value) <= i < len(value):
                    nxt.append(value[i])
            elif m.group(5) is not None:
                if isinstance(value, list):
                    for item in value:
                        got = jsonpath(item, "." + m.group(5))
                        hit = bool(got) and _text(got[0]) == m.group(7)
                        if hit == (m.group(6) == "=="):
                            nxt.append(item)
            elif isinstance(value, list):
                nxt.extend(value)
            elif isinstance(value, dict):
                nxt.extend(value.values())
        current = nxt
    return current


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def cell(kind: str, value: Any, now: _dt.datetime) -> Any:
    if value is None:
        return None
    if kind == "string":
        return _text(value)
    if kind == "integer":
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if kind == "number":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "date":
        return age(value, now) if isinstance(value, str) else None
    return None


def table_columns(printer: tuple[Obj, ...]) -> list[Obj]:
    out = [dict(NAME_COLUMN)]
    for col in printer or DEFAULT_COLUMNS:
        out.append(
            {
                "name": col.get("name", ""),
                "type": col.get("type", "string"),
                "format": col.get("format", ""),
                "description": col.get("description", ""),
                "priority": int(col.get("priority") or 0),
            }
        )
    return out


def row_function(printer: tuple[Obj, ...]) -> Callable[[Obj, _dt.datetime], list[Any]]:
    cols = [(str(c.get("type", "string")), str(c.get("jsonPath", ""))) for c in printer or DEFAULT_COLUMNS]

    def row(obj: Obj, now: _dt.datetime) -> list[Any]:
        cells: list[Any] = [name_cell(obj)]
        for kind, path in cols:
            found = jsonpath(obj, path)
            cells.append(cell(kind, found[0], now) if found else None)
        return cells

    return row

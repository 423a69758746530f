"""Printing what `get` fetched: rows from a Table or a list, sorted and decorated, objects out of both.

Shared by `kubectl get` and its `-w` (kubectl/watching.py), so neither imports the other.
"""

from __future__ import annotations

from typing import Any

from api.resources import Resource
from kubectl.env import Env
from kubectl.flags import Parsed
from kubectl.tables import Rows, object_rows, table_rows


def items_of(answer: dict[str, Any], res: Resource) -> list[dict[str, Any]]:
    if answer.get("kind") == "Table":
        return [r.get("object") or {} for r in answer.get("rows") or []]
    items = answer.get("items", [answer])
    for it in items:
        it.setdefault("apiVersion", res.api_version)
        it.setdefault("kind", res.kind)
    return items


def rows_of(answer: dict[str, Any], res: Resource, wide: bool) -> Rows:
    if answer.get("kind") == "Table":
        return table_rows(answer, wide)
    return object_rows(res, items_of(answer, res), wide)


def sort_rows(rows: Rows, sort_by: str) -> Rows:
    from kubectl import jsonpath

    path = jsonpath.relaxed(sort_by)

    def key(i: int) -> tuple[int, Any]:
        vals = jsonpath.evaluate(path, rows.objects[i])
        v = vals[0] if vals else None
        if v is None:
            return (0, "")
        return (1, v) if isinstance(v, int | float) else (2, str(v))

    order = sorted(range(len(rows.rows)), key=key)
    return Rows(rows.headers, [rows.rows[i] for i in order], [rows.objects[i] for i in order])


def decorate(rows: Rows, p: Parsed, kind_prefix: str) -> Rows:
    extra = []
    for spec in p["label-columns"]:
        for key in spec.split(","):
            values = [((o.get("metadata") or {}).get("labels") or {}).get(key, "") for o in rows.objects]
            extra.append((key.rsplit("/", 1)[-1].upper(), values))
    return rows.decorate(p["all-namespaces"], p["show-labels"], kind_prefix, extra)


def no_resources(env: Env, p: Parsed, namespaced: bool) -> None:
    if p["all-namespaces"] or not namespaced:
        print("No resources found", file=env.err)
    else:
        print(f"No resources found in {env.namespace} namespace.", file=env.err)

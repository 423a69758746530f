"""`kubectl get -w` / `--watch-only`: the list, then one row per change, under one header.

Like kubectl it lists first (unless `--watch-only`), then watches from the list's
resourceVersion with the Table accept, printing each event's row through the same tab writer
so columns stay aligned. It ends when the server closes the stream (or on Ctrl-C).
"""

from __future__ import annotations

from typing import Any

from api import jsonutil
from api import requests as rq
from api.resources import Resource
from kubectl.env import Env
from kubectl.flags import Parsed
from kubectl.tables import Rows, TabWriter


def watch_rows(env: Env, p: Parsed, res: Resource, names: list[str]) -> int:
    from kubectl import output, printing

    fmt = p["output"].partition("=")[0]
    human = fmt in ("", "wide")
    ns = None if p["all-namespaces"] else env.namespace
    field_selector = p["field-selector"]
    if len(names) == 1:
        by_name = f"metadata.name={names[0]}"
        field_selector = f"{field_selector},{by_name}" if field_selector else by_name
    writer = TabWriter()
    header_done = p["no-headers"]

    def emit(rows: Rows, event: str = "") -> None:
        nonlocal header_done
        rows = printing.decorate(rows, p, "")
        if p["output-watch-events"]:
            rows = Rows(["EVENT", *rows.headers], [[event, *r] for r in rows.rows], rows.objects)
        env.out.write(rows.text(headers=not header_done, writer=writer))
        header_done = True
        env.out.flush()

    def emit_objects(objs: list[dict[str, Any]]) -> None:
        for o in objs:
            if fmt == "json":
                env.out.write(output.to_json(o))
            elif fmt == "yaml":
                env.out.write("---\n" + output.to_yaml(o))
            elif fmt == "name":
                env.out.write(output.kind_name(o) + "\n")
        env.out.flush()

    rv = ""
    if not p["watch-only"]:
        req = rq.list_(res, ns, p["selector"], field_selector, table=human)
        answer = env.client.call(req)
        rv = str((answer.get("metadata") or {}).get("resourceVersion") or "")
        if human:
            rows = printing.rows_of(answer, res, fmt == "wide")
            if rows.rows:
                emit(rows, "ADDED")
            else:
                printing.no_resources(env, p, res.namespaced)
        else:
            emit_objects(printing.items_of(answer, res))
    req = rq.watch(
        res,
        ns,
        resource_version=rv or None,
        label_selector=p["selector"],
        field_selector=field_selector,
        table=human,
    )
    if not rv:
        req.query.pop("resourceVersion", None)
    try:
        for line in env.client.stream(req):
            if not line.strip():
                continue
            ev = jsonutil.loads(line)
            kind, obj = ev.get("type"), ev.get("object") or {}
            if kind == "BOOKMARK":
                continue
            if kind == "ERROR":
                from api.errors import ApiError

                raise ApiError.from_status(int(obj.get("code") or 500), obj)
            if human:
                emit(printing.rows_of(obj, res, fmt == "wide"), kind or "")
            else:
                if obj.get("kind") != "Table":
                    obj.setdefault("apiVersion", res.api_version)
                    obj.setdefault("kind", res.kind)
                emit_objects([obj])
    except KeyboardInterrupt:
        return 0
    return 0

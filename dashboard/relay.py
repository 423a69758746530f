"""What the dashboard sends a browser, decided without I/O: frames of server-sent events.

Each object becomes a row whose cells are kubectl's (`api.tables`: the pod Status column as
`kubectl get` prints it), so the page only draws what it is sent. `hub.py` holds the watches
that feed these frames and the viewers they go to.

Frames (`event:` name, JSON `data:`):
- `columns` {kind, columns}: once per kind, before its rows
- `reset` {kind}: forget this kind's rows (a relist follows)
- `row` {kind, type: ADDED|MODIFIED|DELETED, key, namespace, name, created, cells, containers?}
- `denied` {kind, code, message}: the API refused this kind to this viewer (RBAC)
- `problem` {kind, message}: the watch failed and is being retried
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from api import jsonutil
from api import requests as rq
from api.errors import ApiError
from api.resources import Resource, by_plural
from api.tables import table_columns, to_table

Obj = dict[str, Any]
WIDE_SHOWN = ("IP", "Node")  # kubectl's -o wide columns worth a dashboard's space


class Upstream(Protocol):
    """The API as the dashboard reaches it: every call carries the viewer's token."""

    async def call(self, token: str, req: rq.Request) -> Any: ...

    def stream(self, token: str, req: rq.Request) -> AsyncIterator[bytes]: ...


# what the page shows, by the names it asks for: (group, plural)
KINDS: dict[str, tuple[str, str]] = {
    "namespaces": ("", "namespaces"),
    "nodes": ("", "nodes"),
    "pods": ("", "pods"),
    "events": ("", "events"),
    "services": ("", "services"),
    "deployments": ("apps", "deployments"),
    "replicasets": ("apps", "replicasets"),
    "statefulsets": ("apps", "statefulsets"),
    "daemonsets": ("apps", "daemonsets"),
    "replicationcontrollers": ("", "replicationcontrollers"),
    "jobs": ("batch", "jobs"),
    "cronjobs": ("batch", "cronjobs"),
}


def resource_of(kind: str) -> Resource:
    group, plural = KINDS[kind]
    res = by_plural(group, plural)
    assert res is not None, kind
    return res


def parse_kinds(value: str) -> list[str]:
    """The kinds a browser asked for (comma list, unknown names refused), all when empty."""
    asked = [k for k in (p.strip() for p in value.split(",")) if k] if value else list(KINDS)
    unknown = [k for k in asked if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown kinds: {', '.join(unknown)} (known: {', '.join(KINDS)})")
    return list(dict.fromkeys(asked))


def sse(event: str, data: Any) -> bytes:
    """One server-sent event; JSON never holds a raw newline, so one `data:` line is enough."""
    return b"event: " + event.encode() + b"\ndata: " + jsonutil.dumps(data) + b"\n\n"


@functools.cache
def _shown(kind: str) -> tuple[int, ...]:
    """Indexes of the table columns the page shows: kubectl's default ones and WIDE_SHOWN."""
    cols = table_columns(resource_of(kind))
    return tuple(i for i, c in enumerate(cols) if c["priority"] == 0 or c["name"] in WIDE_SHOWN)


def columns_frame(kind: str) -> bytes:
    cols = table_columns(resource_of(kind))
    return sse("columns", {"kind": kind, "columns": [cols[i]["name"] for i in _shown(kind)]})


def row(kind: str, event_type: str, obj: Obj) -> Obj:
    """The page's row for one object: kubectl's cells for the columns of `columns_frame`."""
    cells = to_table(resource_of(kind), [obj], "", include_object="None")["rows"][0]["cells"]
    meta = obj.get("metadata") or {}
    ns, name = meta.get("namespace") or "", meta.get("name") or ""
    out: Obj = {
        "kind": kind,
        "type": event_type,
        "key": f"{ns}/{name}" if ns else name,
        "namespace": ns,
        "name": name,
        "created": meta.get("creationTimestamp") or "",
        "cells": [cells[i] for i in _shown(kind) if i < len(cells)],
    }
    if kind == "pods":  # the log viewer offers these
        out["containers"] = [c.get("name", "") for c in (obj.get("spec") or {}).get("containers") or []]
    return out


@dataclass
class Step:
    """What one watch line means: frames to send, the version to resume from, and for an object
    its row's key and frame (None once deleted) for the rows a feed keeps."""

    frames: list[bytes]
    resource_version: str
    relist: bool = False
    key: str | None = None
    frame: bytes | None = None


def on_watch_line(kind: str, event: Obj, resource_version: str) -> Step:
    """Decide what one watch event does (pure): rows for objects, a relist on 410 Gone."""
    etype, obj = event.get("type", ""), event.get("object") or {}
    if etype == "ERROR":
        if obj.get("code") == 410:
            return Step([], resource_version, relist=True)
        return Step([sse("problem", {"kind": kind, "message": obj.get("message", "")})], resource_version)
    rv = (obj.get("metadata") or {}).get("resourceVersion") or resource_version
    if etype == "BOOKMARK":
        return Step([], rv)
    if etype in ("ADDED", "MODIFIED", "DELETED"):
        r = row(kind, etype, obj)
        frame = sse("row", r)
        return Step([frame], rv, key=r["key"], frame=None if etype == "DELETED" else frame)
    return Step([], rv)


def listed_rows(kind: str, listed: Obj) -> dict[str, bytes]:
    """A list answer as the row frames a feed keeps, by key."""
    rows = {}
    for item in listed.get("items") or []:
        r = row(kind, "ADDED", item)
        rows[r["key"]] = sse("row", r)
    return rows


def reset_frame(kind: str) -> bytes:
    return sse("reset", {"kind": kind})


def denied_frame(kind: str, err: ApiError) -> bytes:
    return sse("denied", {"kind": kind, "code": err.code, "message": err.message})

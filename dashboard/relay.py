"""API watches relayed to one browser as server-sent events: list, then watch from that version.

A browser opens one EventSource (browsers allow few connections per host, so every kind shares
it); for each kind the dashboard lists with the viewer's token, then watches from the list's
resourceVersion, resuming after a dropped stream and relisting after 410 Gone, as an informer
does. Each object becomes a row whose cells are kubectl's (`api.tables`: the pod Status column
as `kubectl get` prints it), so the page only draws what it is sent.

Frames (`event:` name, JSON `data:`):
- `columns` {kind, columns}: once per kind, before its rows
- `reset` {kind}: forget this kind's rows (a relist follows)
- `row` {kind, type: ADDED|MODIFIED|DELETED, key, namespace, name, created, cells, containers?}
- `denied` {kind, code, message}: the API refused this kind to this viewer (RBAC)
- `problem` {kind, message}: the watch failed and is being retried
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from api import jsonutil
from api import requests as rq
from api.errors import ApiError
from api.resources import Resource, by_plural
from api.tables import table_columns, to_table

log = logging.getLogger("kubelite.dashboard")

Obj = dict[str, Any]
RETRY_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
BATCH_SECONDS = 0.05  # a frame waits this long for others: one write per burst, not one per row
SHARED_ROWS = 2048  # watch lines whose rows are kept for the other viewers receiving the same line
WATCH_TIMEOUT = 300  # seconds: the server ends a watch then and it is resumed from the last version
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
    """What one watch line means for the relay: frames to send, the version to resume from."""

    frames: list[bytes]
    resource_version: str
    relist: bool = False


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
        return Step([sse("row", row(kind, etype, obj))], rv)
    return Step([], rv)


class SharedRows:
    """Steps by watch line, shared by every viewer: N pages watching the same kind are each sent
    the same bytes for one change, so its row is computed once (bounded, oldest dropped first).
    A viewer only ever gets a step for a line its own watch delivered: nothing crosses viewers."""

    def __init__(self, size: int = SHARED_ROWS) -> None:
        self.size = size
        self._steps: dict[tuple[str, bytes], Step] = {}

    def step(self, kind: str, line: bytes, resource_version: str) -> Step:
        key = (kind, line)
        found = self._steps.get(key)
        if found is not None:
            return found
        step = on_watch_line(kind, jsonutil.loads(line), resource_version)
        if step.frames and step.frames[0].startswith(b"event: row"):  # rows only: errors are per watch
            if len(self._steps) >= self.size:
                del self._steps[next(iter(self._steps))]
            self._steps[key] = step
        return step


SHARED = SharedRows()


def snapshot_frames(kind: str, listed: Obj) -> list[bytes]:
    """A list answer as frames: forget what the page had, then one ADDED row per item."""
    frames = [sse("reset", {"kind": kind})]
    frames += [sse("row", row(kind, "ADDED", item)) for item in listed.get("items") or []]
    return frames


def denied_frame(kind: str, err: ApiError) -> bytes:
    return sse("denied", {"kind": kind, "code": err.code, "message": err.message})


class KindWatch:
    """One kind for one viewer: list, then watch from the list's version; resumed until cancelled."""

    def __init__(
        self, upstream: Upstream, token: str, kind: str, namespace: str | None, shared: SharedRows = SHARED
    ) -> None:
        self.upstream, self.token, self.kind, self.shared = upstream, token, kind, shared
        self.res = resource_of(kind)
        self.namespace = namespace if self.res.namespaced else None
        self.resource_version = ""

    async def list(self) -> list[bytes]:
        """The snapshot's frames; raises the API's ApiError (401, 403) as it came."""
        listed = await self.upstream.call(self.token, rq.list_(self.res, self.namespace))
        self.resource_version = (listed.get("metadata") or {}).get("resourceVersion") or ""
        return snapshot_frames(self.kind, listed)

    async def run(self, out: asyncio.Queue[bytes]) -> None:
        """Feed `out` with this kind's frames until cancelled (or until the API refuses the viewer)."""
        while True:
            try:
                req = rq.watch(self.res, self.namespace, self.resource_version, timeout_seconds=WATCH_TIMEOUT)
                async for line in self.upstream.stream(self.token, req):
                    step = self.shared.step(self.kind, line, self.resource_version)
                    self.resource_version = step.resource_version
                    for frame in step.frames:
                        out.put_nowait(frame)
                    if step.relist:
                        for frame in await self.list():
                            out.put_nowait(frame)
                        break
                continue  # the server ended the watch (timeout): resume from the last version
            except asyncio.CancelledError:
                raise
            except ApiError as e:
                if e.code in (401, 403):  # the token expired or lost its rights: say so and stop
                    out.put_nowait(denied_frame(self.kind, e))
                    return
                if e.code == 410:
                    try:
                        for frame in await self.list():
                            out.put_nowait(frame)
                        continue
                    except ApiError as again:
                        e = again
                out.put_nowait(sse("problem", {"kind": self.kind, "message": e.message}))
            except (OSError, ConnectionError, ValueError) as e:
                out.put_nowait(sse("problem", {"kind": self.kind, "message": str(e) or type(e).__name__}))
            await asyncio.sleep(RETRY_SECONDS)


async def open_watches(
    upstream: Upstream, token: str, kinds: list[str], namespace: str | None
) -> tuple[list[bytes], list[KindWatch], list[ApiError]]:
    """List every kind at once: the first frames, the watches to run, and the API's refusals."""
    watches = [KindWatch(upstream, token, k, namespace) for k in kinds]
    results = await asyncio.gather(*(w.list() for w in watches), return_exceptions=True)
    frames, running, refused = [], [], []
    for w, result in zip(watches, results, strict=True):
        frames.append(columns_frame(w.kind))
        if isinstance(result, ApiError):
            frames.append(denied_frame(w.kind, result))
            refused.append(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            frames.extend(result)
            running.append(w)
    return frames, running, refused


async def relay(first: list[bytes], watches: list[KindWatch]) -> AsyncGenerator[bytes, None]:
    """The event stream of one browser: the snapshots, then every watch's frames as they come,
    a burst in one write (a comment line on quiet stretches, so a dead connection is noticed)."""
    yield b"".join(first)
    out: asyncio.Queue[bytes] = asyncio.Queue()
    tasks = [asyncio.create_task(w.run(out)) for w in watches]
    try:
        while True:
            try:
                frame = await asyncio.wait_for(out.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield b": quiet\n\n"
                continue
            await asyncio.sleep(BATCH_SECONDS)
            frames = [frame]
            while not out.empty():
                frames.append(out.get_nowait())
            yield b"".join(frames)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

"""A fake `dashboard.relay.Upstream`: answers and watch streams scripted per path, calls recorded.

`answers[path]` is a list answer (a dict), an ApiError to raise, or a function of (token,
request) returning either (to answer viewers differently); `streams[path]` is a list of
streams, each a list of lines (bytes) or an ApiError, handed out in order, one per `stream` call
(an asyncio.Event before one holds it back until set);
when they run out the next stream waits forever (a quiet watch), as a real one would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from api import jsonutil
from api import requests as rq
from api.errors import ApiError


class FakeUpstream:
    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.streams: dict[str, list[list[bytes] | ApiError | asyncio.Event]] = {}
        self.calls: list[tuple[str, str, dict[str, str]]] = []  # (token, path, query)

    async def call(self, token: str, req: rq.Request) -> Any:
        self.calls.append((token, req.path, dict(req.query)))
        answer = self.answers.get(req.path)
        if callable(answer):
            answer = answer(token, req)
        if isinstance(answer, ApiError):
            raise answer
        if answer is None:
            raise ApiError(404, "NotFound", f"{req.path} not found")
        return answer

    async def stream(self, token: str, req: rq.Request) -> AsyncIterator[bytes]:
        self.calls.append((token, req.path, dict(req.query)))
        queued = self.streams.get(req.path) or []
        if not queued:
            await asyncio.Event().wait()  # a watch with nothing to say
        item = queued.pop(0)
        while isinstance(item, asyncio.Event):  # a gate: the stream says nothing until it is set
            await item.wait()
            if not queued:
                await asyncio.Event().wait()
            item = queued.pop(0)
        if isinstance(item, ApiError):
            raise item
        for line in item:
            yield line


def event(kind: str, obj: dict[str, Any]) -> bytes:
    return jsonutil.dumps({"type": kind, "object": obj})


def pod(name: str, rv: str, namespace: str = "default", phase: str = "Pending") -> dict[str, Any]:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "resourceVersion": rv,
            "creationTimestamp": "2026-12-03T10:00:00Z",
        },
        "spec": {"containers": [{"name": "app", "image": "busybox"}, {"name": "side", "image": "busybox"}]},
        "status": {"phase": phase},
    }


def listed(rv: str, *items: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": rv}, "items": list(items)}

"""ASGI plumbing shared by the two HTTP servers: the API server and the kubelet.

`respond` sends a whole answer (status, content type, length, body) and `deny_websocket` refuses
a WebSocket handshake with an HTTP answer (kubectl reads the Status in it): the one place both
servers write those ASGI messages.

A streamed response (a followed log) must end when the client goes away, not when the stream
next yields: otherwise a quiet log holds its upstream connection and file watch forever. The
only way an ASGI app learns of the disconnect is by reading `receive()`, so the work and a
reader of `receive()` run side by side and whichever ends first cancels the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[None]]


async def first_of(*work: Awaitable[Any]) -> list[asyncio.Future[Any]]:
    """Run `work` side by side until the first of it ends, then cancel the rest and wait for it to
    go (also when this is cancelled); the tasks, to read what the one that ended gave."""
    tasks: list[asyncio.Future[Any]] = [asyncio.ensure_future(w) for w in work]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return tasks


async def until_disconnect(receive: Callable[[], Awaitable[dict[str, Any]]], work: Awaitable[None]) -> None:
    """Run `work` (a streaming response) until it ends or the client goes away (then it is
    cancelled); an error `work` raised is raised here."""

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    task, _ = await first_of(work, watch())
    if task.done() and not task.cancelled() and (err := task.exception()) is not None:
        raise err


JSON = b"application/json"


async def respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes = JSON,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """A whole HTTP answer: status, content type and length (and `headers`), body."""
    hdrs = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if headers:
        hdrs.extend(headers)
    await send({"type": "http.response.start", "status": status, "headers": hdrs})
    await send({"type": "http.response.body", "body": body})


async def deny_websocket(
    send: Send, status: int, body: bytes, content_type: bytes = JSON, scope: dict[str, Any] | None = None
) -> None:
    """Refuse a WebSocket handshake with an HTTP answer (ASGI's `websocket.http.response`
    extension). Given the `scope` of a server that lacks the extension, close instead: 1008
    (policy) for 401/403, else 1011."""
    if scope is not None and "websocket.http.response" not in (scope.get("extensions") or {}):
        await send({"type": "websocket.close", "code": 1008 if status in (401, 403) else 1011})
        return
    await send(
        {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})

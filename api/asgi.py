"""ASGI plumbing shared by the two HTTP servers that stream: the API server (which proxies pod logs
from kubelets) and the kubelet (which serves them).

A streamed response (a followed log) must end when the client goes away, not when the stream
next yields: otherwise a quiet log holds its upstream connection and file watch forever. The
only way an ASGI app learns of the disconnect is by reading `receive()`, so the work and a
reader of `receive()` run side by side and whichever ends first cancels the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def until_disconnect(receive: Callable[[], Awaitable[dict[str, Any]]], work: Awaitable[None]) -> None:
    """Run `work` (a streaming response) until it ends or the client goes away (then it is
    cancelled); an error `work` raised is raised here."""
    task = asyncio.ensure_future(work)

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(watch())
    try:
        await asyncio.wait([task, watcher], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in (task, watcher):
            t.cancel()
        await asyncio.gather(task, watcher, return_exceptions=True)
    if task.done() and not task.cancelled() and (err := task.exception()) is not None:
        raise err

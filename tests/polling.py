"""Waiting for a condition in tests: poll it with a deadline, never sleep a fixed time.

`wait_for` for synchronous tests, `until` inside asyncio ones (it yields to the loop between
tries). Both return the condition's first truthy value, so a test can wait for and take the
thing it waited for in one step, and fail with what they waited for and the last value seen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Literal, TypeVar

T = TypeVar("T")


def wait_for(
    cond: Callable[[], T | Literal[False] | None],
    timeout: float = 30.0,
    what: str = "condition",
    *,
    interval: float = 0.05,
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        last = cond()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


async def until(
    cond: Callable[[], T | Literal[False] | None],
    timeout: float = 30.0,
    what: str = "condition",
    *,
    interval: float = 0.01,
) -> T:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        last = cond()
        if last:
            return last
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        await asyncio.sleep(interval)


def http_text(url: str) -> str:
    """The body of GET `url`, or "" while nothing answers there (a condition for wait_for/until)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return str(r.read().decode())
    except OSError:
        return ""

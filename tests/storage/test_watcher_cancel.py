"""A hub watcher's wait may be cancelled at any await (the watch stream bounds each wait with a
timeout, `asyncio.timeout` or `wait_for`): nothing taken is lost, nothing is handed out twice,
and the watcher goes on. A QueueWatcher is a class with `__anext__`, not an async generator, so a
cancel thrown into its wait ends that wait only; an async generator would be closed by it and
end the watch with StopAsyncIteration."""

from __future__ import annotations

import asyncio

import pytest

from apiserver.storage.hub import QueueWatcher, WatchHub
from apiserver.storage.interface import Event


def ev(rev: int, key: str = "/a/x") -> Event:
    return Event("ADDED", key, rev, b"{}")


async def _no_log(after: int, limit: int, prefix: str = "") -> tuple[int, list[Event]]:
    raise AssertionError("the ring should have served this")


async def next_within(w: QueueWatcher, seconds: float) -> Event | None:
    """The watch stream's wait: the next event, or None when `seconds` pass first."""
    try:
        async with asyncio.timeout(seconds):
            return await anext(w)
    except TimeoutError:
        return None


def test_a_timed_out_wait_leaves_the_watcher_going() -> None:
    async def run() -> None:
        hub = WatchHub(revision=0, ring_capacity=100)
        w = hub.register("/a/", 0, _no_log)
        for _ in range(3):
            assert await next_within(w, 0.01) is None
        hub.publish([ev(1), ev(2)])
        assert [(await next_within(w, 5)), (await next_within(w, 5))] == [ev(1), ev(2)]
        assert await next_within(w, 0.01) is None
        assert hub.watcher_count() == 1 and not w.closed

    asyncio.run(run())


@pytest.mark.parametrize("first", ["timeout", "event"])
def test_a_timeout_in_the_turn_an_event_arrives_loses_nothing(first: str) -> None:
    """The timeout fires in the same loop turn the event wakes the wait, in either order: the
    wait either returns the event or times out with the event still buffered for the next one."""

    async def run() -> None:
        loop = asyncio.get_running_loop()
        hub = WatchHub(revision=0, ring_capacity=100)
        w = hub.register("/a/", 0, _no_log)
        entered = asyncio.Event()
        scope: list[asyncio.Timeout] = []

        async def wait() -> Event | None:
            try:
                async with asyncio.timeout(60) as t:
                    scope.append(t)
                    entered.set()
                    return await anext(w)
            except TimeoutError:
                return None

        waiting = asyncio.create_task(wait())
        await entered.wait()
        await asyncio.sleep(0)  # the task is now parked on the watcher's waiter
        if first == "timeout":
            scope[0].reschedule(loop.time())  # _on_timeout goes on the ready queue first ...
            hub.publish([ev(1)])  # ... then the waiter's wake-up, in the same turn
        else:
            hub.publish([ev(1)])
            scope[0].reschedule(loop.time())
        got = await waiting
        rest = [e for e in [await next_within(w, 0.05)] if e is not None]
        assert ([got] if got is not None else []) + rest == [ev(1)]  # once, whichever way it went
        if first == "timeout":
            assert got is None  # the cancel was thrown into the wait before it took the event
        hub.publish([ev(2)])
        assert await next_within(w, 5) == ev(2)

    asyncio.run(run())


def test_a_cancel_during_a_log_page_reads_the_page_again() -> None:
    log = [ev(r) for r in range(1, 6)]
    pages: list[int] = []
    release = asyncio.Event()

    async def slow_fetch(after: int, limit: int, prefix: str = "") -> tuple[int, list[Event]]:
        pages.append(after)
        if len(pages) == 1:
            await release.wait()  # the first read is cancelled while in flight
        return 0, [e for e in log if e.revision > after][:limit]

    async def run() -> None:
        hub = WatchHub(revision=0, ring_capacity=2)
        hub.publish(log)
        w = hub.register("/a/", 0, slow_fetch)
        assert w.needs_log
        assert await next_within(w, 0.01) is None  # cancelled inside fetch_more
        got = [await next_within(w, 5) for _ in range(5)]
        assert got == log and pages == [0, 0]

    asyncio.run(run())

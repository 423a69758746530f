"""The work queue: dedup, one worker per key, back-off, forget."""

from __future__ import annotations

import asyncio

import pytest

from api.workqueue import ShutDown, WorkQueue

pytestmark = pytest.mark.anyio


async def test_dedup_and_order() -> None:
    q: WorkQueue[str] = WorkQueue()
    for k in ("a", "b", "a", "c", "b"):
        q.add(k)
    assert len(q) == 3
    assert [await q.get() for _ in range(3)] == ["a", "b", "c"]


async def test_key_in_processing_is_requeued_on_done_not_handed_out_twice() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    k = await q.get()
    q.add("a")  # changed while a worker holds it
    assert len(q) == 0
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0.01)
    assert not getter.done()
    q.done(k)
    assert await asyncio.wait_for(getter, 1) == "a"


async def test_rate_limited_backoff_grows_and_forget_resets() -> None:
    q: WorkQueue[str] = WorkQueue(base_delay=0.01, max_delay=1)
    q.add_rate_limited("a")
    q.add_rate_limited("a")
    assert q.num_requeues("a") == 2
    assert await asyncio.wait_for(q.get(), 1) == "a"
    q.done("a")
    q.forget("a")
    assert q.num_requeues("a") == 0


async def test_add_after_fires_once() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add_after("a", 0.02)
    q.add_after("a", 0.5)  # the earlier timer wins
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    assert await asyncio.wait_for(q.get(), 1) == "a"
    assert loop.time() - t0 < 0.4


async def test_shutdown_wakes_getters() -> None:
    q: WorkQueue[str] = WorkQueue()
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.shutdown()
    with pytest.raises(ShutDown):
        await asyncio.wait_for(getter, 1)


async def test_a_priority_queue_hands_out_the_highest_first_in_arrival_order_among_equals() -> None:
    priority = {"low": 0, "mid": 1000, "mid2": 1000, "critical": 2000000000, "plain": 0}
    q: WorkQueue[str] = WorkQueue(priority=priority.__getitem__)
    for k in ("low", "mid", "plain", "critical", "mid2", "low"):
        q.add(k)
    assert len(q) == 5
    first = await q.get()
    q.add(first)  # changed while held: back when done, behind what is waiting at its priority
    assert [first, *[await q.get() for _ in range(4)]] == ["critical", "mid", "mid2", "low", "plain"]
    q.done(first)
    assert await q.get() == "critical"

"""Conformance, part 2: watch from a revision, compaction, slow watchers (every backend)."""

from __future__ import annotations

import asyncio

import pytest

from apiserver.storage import CompactedError, WatcherDroppedError
from tests.polling import until
from tests.storage.conftest import MakeStore, collect, key, pod, present, watching

pytestmark = pytest.mark.anyio


async def test_watch_replays_then_streams_in_order(store):
    start = await store.current_revision()
    a = await store.create(key("a"), pod("a"))
    b = await store.update(key("a"), pod("a", status={}), a.revision)
    await store.create("/registry/nodes/n1", {"metadata": {"name": "n1"}})  # outside the prefix
    async with watching(store, "/registry/pods/", start) as w:
        c = await store.create(key("c"), pod("c"))
        d = await store.delete(key("a"))
        events = await collect(w, d.revision)
    assert [(e.type, e.key, e.revision) for e in events] == [
        ("ADDED", key("a"), a.revision),
        ("MODIFIED", key("a"), b.revision),
        ("ADDED", key("c"), c.revision),
        ("DELETED", key("a"), d.revision),
    ]
    assert events[1].prev_value == a.value and events[1].value == b.value
    assert events[3].obj["metadata"]["resourceVersion"] == str(d.revision)
    assert events[3].prev_obj["metadata"]["resourceVersion"] == str(b.revision)


async def test_watch_from_now_sees_only_later_events(store):
    await store.create(key("old"), pod("old"))
    async with watching(store, "/registry/pods/", await store.current_revision()) as w:
        new = await store.create(key("new"), pod("new"))
        events = await collect(w, new.revision)
    assert [e.key for e in events] == [key("new")]


async def _writer(store, names):
    revs = []
    for n in names:
        revs.append((await store.create(key(n), pod(n))).revision)
    return revs


async def test_reconnect_from_last_seen_revision_has_no_gap_or_duplicate(store):
    start = await store.current_revision()
    writer = asyncio.create_task(_writer(store, [f"p{i}" for i in range(200)]))
    seen = []
    async with watching(store, "/registry/pods/", start) as w:  # first connection: ~60 events
        async for ev in w:
            seen.append(ev.revision)
            if len(seen) == 60:
                break
    async with watching(store, "/registry/pods/", seen[-1]) as w:  # reconnect mid-stream
        revs = await writer
        seen += [e.revision for e in await collect(w, revs[-1])]
    assert seen == revs  # every write once, in order, across the reconnect


async def test_old_revisions_come_from_the_log_beyond_the_ring(make_store: MakeStore):
    store = await make_store(ring_capacity=10)
    revs = await _writer(store, [f"p{i}" for i in range(60)])
    # on etcd the hub hears of writes through etcd's watch, after they are acknowledged
    await until(lambda: store.hub.revision >= revs[-1], what="the hub to hear of every write")
    assert not store.hub.ring.covers(revs[0])
    async with watching(store, "/registry/pods/", revs[5]) as w:
        live = asyncio.create_task(_writer(store, ["late1", "late2"]))
        late = await live
        events = await collect(w, late[-1])
    assert [e.revision for e in events] == revs[6:] + late


async def test_compacted_revisions_answer_compacted_error(make_store: MakeStore):
    store = await make_store()
    revs = await _writer(store, [f"p{i}" for i in range(10)])
    upd = await store.update(key("p0"), pod("p0", status={}), revs[0])
    compacted = await store.compact(0)
    assert compacted == upd.revision - 1  # everything but the newest revision
    assert await store.compacted_revision() == compacted
    with pytest.raises(CompactedError) as err:
        await store.watch("/registry/pods/", revs[2])
    assert err.value.compacted == compacted
    async with watching(store, "/registry/pods/", compacted) as w:  # exactly at it: fine
        assert [e.revision for e in await collect(w, upd.revision)] == [upd.revision]
    # current state is untouched by compaction
    _, items = await store.list("/registry/pods/")
    assert len(items) == 10 and present(await store.get(key("p0"))).revision == upd.revision
    # the compacted revision survives a restart, and the revision keeps counting
    await store.close()
    again = await make_store()
    assert await again.compacted_revision() == compacted
    with pytest.raises(CompactedError):
        await again.watch("/registry/pods/", revs[2])
    assert (await again.create(key("x"), pod("x"))).revision == upd.revision + 1


async def test_compaction_keeps_the_recent_window(store):
    start, compacted = await store.current_revision(), await store.compacted_revision()
    revs = await _writer(store, ["a", "b", "c"])
    assert await store.compact(3600) == compacted  # nothing is older than an hour
    async with watching(store, "/registry/pods/", start) as w:
        assert len(await collect(w, revs[-1])) == 3


async def test_compaction_timer_runs(make_store: MakeStore):
    store = await make_store(compact_keep_seconds=0, compact_interval=0.05)
    revs = await _writer(store, ["a", "b", "c"])
    deadline = asyncio.get_running_loop().time() + 5
    while await store.compacted_revision() < revs[-1] - 1:
        assert asyncio.get_running_loop().time() < deadline, "compaction timer never ran"
        await asyncio.sleep(0.02)


async def test_slow_watcher_is_dropped_and_writers_keep_going(make_store: MakeStore):
    store = await make_store(max_watcher_queue=50)
    slow = await store.watch("/registry/pods/", await store.current_revision())
    fast = await store.watch("/registry/pods/", await store.current_revision())
    consumed = []

    async def consume() -> None:
        async for ev in fast:
            consumed.append(ev.revision)
            if len(consumed) == 300:
                return

    reader = asyncio.create_task(consume())
    revs = await asyncio.wait_for(_writer(store, [f"p{i}" for i in range(300)]), 20)
    assert len(revs) == 300  # writers were not held up by the watcher that never reads

    async def drain() -> None:
        async for _ in slow:
            pass

    with pytest.raises(WatcherDroppedError):
        await asyncio.wait_for(drain(), 10)
    await asyncio.wait_for(reader, 10)
    assert consumed == revs  # the watcher that keeps up gets everything
    assert store.hub.dropped_count == 1
    await slow.close()
    await fast.close()


async def test_close_ends_watchers(make_store: MakeStore):
    store = await make_store()
    w = await store.watch("", await store.current_revision())
    await asyncio.wait_for(store.close(), 20)

    async def drain() -> list[object]:
        return [e async for e in w]

    assert await asyncio.wait_for(drain(), 10) == []


async def test_log_replay_matches_what_the_ring_would_have_sent(make_store: MakeStore):
    store = await make_store(ring_capacity=5)
    start = await store.current_revision()
    a = await store.create(key("u"), pod("u"))
    b = await store.update(key("u"), pod("u", status={"phase": "Running"}), a.revision)
    c = await store.delete(key("u"))
    revs = await _writer(store, [f"p{i}" for i in range(20)])
    async with watching(store, "/registry/pods/default/u", start) as w:  # narrow prefix, all from the log
        tail = await store.create(key("u"), pod("u"))
        events = await collect(w, tail.revision)
    assert [(e.type, e.revision, e.value) for e in events] == [
        ("ADDED", a.revision, a.value),
        ("MODIFIED", b.revision, b.value),
        ("DELETED", c.revision, c.value),
        ("ADDED", tail.revision, tail.value),
    ]
    assert events[1].prev_value == a.value and events[2].prev_value == b.value
    assert revs[0] > c.revision


async def test_list_then_watch_from_its_revision_rebuilds_the_state(store):
    """A LIST's revision matches its rows: watching from it under concurrent writes converges."""

    async def churn() -> None:
        for i in range(120):
            kv = await store.create(key(f"p{i}"), pod(f"p{i}"))
            if i % 3 == 0:
                await store.update(key(f"p{i}"), pod(f"p{i}", status={"n": i}), kv.revision)
            if i % 5 == 0:
                await store.delete(key(f"p{i}"))

    task = asyncio.create_task(churn())
    while await store.count("/registry/pods/") < 20:
        await asyncio.sleep(0.001)
    rev, items = await store.list("/registry/pods/")
    state = {kv.key: kv.value for kv in items}
    async with watching(store, "/registry/pods/", rev) as w:
        await task
        final_rev = await store.current_revision()
        if final_rev > rev:
            for ev in await collect(w, final_rev):
                if ev.type == "DELETED":
                    del state[ev.key]
                else:
                    state[ev.key] = ev.value
    _, final = await store.list("/registry/pods/")
    assert state == {kv.key: kv.value for kv in final}

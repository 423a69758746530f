"""Unit tests of the pure parts: batch planning, the event ring, hub fan-out, compaction target."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from apiserver.storage import ConflictError, KeyExistsError, KeyNotFoundError, StorageError
from apiserver.storage.batch import CREATE, DELETE, UPDATE, WriteRequest, plan_batch
from apiserver.storage.compactor import compaction_target
from apiserver.storage.hub import EventRing, EventRings, QueueWatcher, WatchHub, bucket_of
from apiserver.storage.interface import Event, KeyValue, WatcherDroppedError
from apiserver.storage.sql import prefix_end


def ok(outcome: KeyValue | Exception) -> KeyValue:
    assert isinstance(outcome, KeyValue), outcome
    return outcome


def test_plan_assigns_consecutive_revisions_and_serialises_once():
    reqs = [WriteRequest(CREATE, "/a", {"metadata": {}}), WriteRequest(CREATE, "/b", {"metadata": {"x": 1}})]
    plan = plan_batch(reqs, {}, 11, now=5.0)
    assert [ok(o).revision for o in plan.outcomes] == [11, 12]
    assert plan.last_revision == 12
    assert orjson.loads(ok(plan.outcomes[1]).value) == {"metadata": {"x": 1, "resourceVersion": "12"}}
    assert ok(plan.outcomes[0]).value is plan.log_rows[0]["value"] is plan.events[0].value
    assert [r["type"] for r in plan.log_rows] == ["ADDED", "ADDED"]
    assert plan.upserts["/b"]["create_revision"] == 12 and not plan.deletes


def test_plan_failures_fail_alone_and_consume_no_revision():
    rows = {"/x": (3, 1, b'{"metadata":{"resourceVersion":"3"}}')}
    reqs = [
        WriteRequest(CREATE, "/x", {}),
        WriteRequest(UPDATE, "/x", {}, expected_revision=2),
        WriteRequest(UPDATE, "/nope", {}, 1),
        WriteRequest(DELETE, "/x", None, expected_revision=1),
        WriteRequest(CREATE, "/bad", {"metadata": {}, "v": object()}),
        WriteRequest(UPDATE, "/x", {"metadata": {}}, expected_revision=3),
    ]
    plan = plan_batch(reqs, rows, 4, now=0.0)
    kinds = [type(o) for o in plan.outcomes]
    assert kinds[:5] == [KeyExistsError, ConflictError, KeyNotFoundError, ConflictError, StorageError]
    conflict = plan.outcomes[1]
    assert isinstance(conflict, ConflictError) and conflict.current_revision == 3
    assert ok(plan.outcomes[5]).revision == 4  # the one success got the first revision
    assert (
        reqs[4].obj is not None and reqs[4].obj["metadata"] == {}
    )  # a failed serialisation leaves the object as it was
    assert plan.log_rows[0]["prev_revision"] == 3 and plan.upserts["/x"]["create_revision"] == 1


def test_plan_sees_earlier_writes_to_the_same_key_in_the_batch():
    reqs = [
        WriteRequest(CREATE, "/k", {"metadata": {}}),
        WriteRequest(UPDATE, "/k", {"metadata": {}}, 1),
        WriteRequest(DELETE, "/k"),
        WriteRequest(CREATE, "/k", {"metadata": {"n": 2}}),
        WriteRequest(DELETE, "/gone", None),
    ]
    plan = plan_batch(reqs, {}, 1, now=0.0)
    assert [getattr(o, "revision", None) for o in plan.outcomes] == [1, 2, 3, 4, None]
    assert [e.type for e in plan.events] == ["ADDED", "MODIFIED", "DELETED", "ADDED"]
    assert plan.events[2].prev_value == plan.events[1].value
    assert orjson.loads(plan.events[2].value)["metadata"]["resourceVersion"] == "3"
    assert plan.upserts["/k"]["mod_revision"] == 4 and plan.upserts["/k"]["create_revision"] == 4
    assert not plan.deletes  # deleted then created again: the final row wins


def test_prefix_end_bounds_the_range():
    assert prefix_end("/registry/pods/") == "/registry/pods0"
    assert prefix_end("") is None
    end = prefix_end("/registry/pods/")
    assert end is not None and "/registry/pods/x" < end <= "/registry/podsx"


def test_compaction_target_never_takes_the_newest_and_never_goes_back():
    assert compaction_target(newest=10, before_cutoff=10, compacted=0) == 9
    assert compaction_target(newest=10, before_cutoff=4, compacted=0) == 4
    assert compaction_target(newest=10, before_cutoff=4, compacted=6) == 6
    assert compaction_target(newest=10, before_cutoff=None, compacted=2) == 2


def ev(rev: int, key: str = "/a/x") -> Event:
    return Event("ADDED", key, rev, b"{}")


def test_ring_evicts_oldest_and_raises_its_floor():
    ring = EventRing(3, floor=0)
    for r in range(1, 6):
        ring.append(ev(r))
    assert ring.floor == 2 and len(ring) == 3
    assert [e.revision for e in ring.after(3)] == [4, 5]
    assert [e.revision for e in ring.after(2)] == [3, 4, 5]
    assert ring.covers(2) and not ring.covers(1)


def test_ring_keeps_no_parse_of_its_events():
    hub = WatchHub(revision=0)
    live = Event("ADDED", "/registry/pods/ns/a", 1, b'{"metadata":{"name":"a"}}')
    assert hub.publish([live])
    assert live.obj["metadata"]["name"] == "a"  # the live watchers' shared parse
    kept = hub.ring.after(0)[0]
    assert (kept.key, kept.revision, kept.value) == (live.key, 1, live.value)
    assert "obj" not in kept.__dict__  # a replay parses again; the ring holds bytes only


def test_buckets_are_a_keys_first_two_segments():
    assert bucket_of("/registry/pods/ns/a") == bucket_of("/registry/pods/") == "/registry/pods/"
    assert bucket_of("/registry/apps/deployments/ns/d") == "/registry/apps/"
    assert bucket_of("/registry/pods") is None and bucket_of("/registry/") is None
    assert bucket_of("/a/1") is None and bucket_of("") is None


def test_each_resource_keeps_its_own_history():
    """A burst of pods evicts older pods only: a ConfigMap watch from before the burst still
    replays from memory, a pods watch that old must page the log, and a watch of every key sees
    all rings merged in revision order, covered only as far back as every ring reaches."""
    rings = EventRings(3, floor=0)
    rings.append(ev(1, "/registry/configmaps/ns/c"))
    for r in range(2, 12):
        rings.append(ev(r, f"/registry/pods/ns/p{r}"))
    rings.append(ev(12, "/a/short"))  # too short a key for a bucket: the catch-all ring
    assert rings.covers(0, "/registry/configmaps/ns/")
    assert [e.revision for e in rings.after(0, "/registry/configmaps/ns/")] == [1]
    assert rings.covers(0, "/registry/services/")  # nothing of it since the start
    assert not rings.covers(0, "/registry/pods/") and rings.covers(8, "/registry/pods/ns/")
    assert [e.revision for e in rings.after(8, "/registry/pods/ns/")] == [9, 10, 11]
    assert not rings.covers(0) and rings.covers(8)
    assert [e.revision for e in rings.after(8)] == [9, 10, 11, 12]
    assert [e.revision for e in rings.after(0, "/registry/")] == [1, 9, 10, 11]
    assert len(rings) == 5

    hub = WatchHub(revision=0, ring_capacity=3)  # the same through a watcher
    hub.publish(
        [ev(1, "/registry/configmaps/ns/c")] + [ev(r, f"/registry/pods/ns/p{r}") for r in range(2, 12)]
    )
    informer = hub.register("/registry/configmaps/ns/", 0, _no_log)
    assert not informer.needs_log and [e.revision for e in informer.take_ready(10)] == [1]
    assert hub.register("/registry/pods/", 0, _no_log).needs_log


async def _no_log(after: int, limit: int, prefix: str = "") -> tuple[int, list[Event]]:
    raise AssertionError("the ring should have served this")


def test_hub_refuses_a_gap_and_skips_what_it_has():
    hub = WatchHub(revision=5)
    assert hub.publish([ev(6), ev(7)])
    assert not hub.publish([ev(9)])  # 8 is missing: caller must catch up from the log
    assert hub.publish([ev(6), ev(7), ev(8)]) and hub.revision == 8
    assert hub.publish([ev(10)], allow_gap=True) and hub.revision == 10


def test_hub_replays_filters_and_drops_slow_watchers():
    async def run() -> None:
        hub = WatchHub(revision=0, ring_capacity=100, max_queue=3)
        hub.publish([ev(1, "/a/1"), ev(2, "/b/1")])
        w = hub.register("/a/", 0, _no_log)
        slow = hub.register("/", 2, _no_log)
        hub.publish([ev(3, "/a/2"), ev(4, "/b/2")])
        got = [(await w.__anext__()).revision, (await w.__anext__()).revision]
        assert got == [1, 3]
        hub.publish([ev(5, "/b/3"), ev(6, "/b/4")])  # slow now holds 4 > 3
        with pytest.raises(WatcherDroppedError):
            await slow.__anext__()
        assert hub.dropped_count == 1 and hub.watcher_count() == 1
        await w.close()
        with pytest.raises(StopAsyncIteration):
            await w.__anext__()
        assert hub.watcher_count() == 0

    asyncio.run(run())


def test_take_ready_hands_out_what_is_buffered_in_order_without_waiting():
    async def run() -> None:
        hub = WatchHub(revision=0, ring_capacity=100)
        hub.publish([ev(1, "/a/1"), ev(2, "/b/1")])
        w = hub.register("/a/", 0, _no_log)  # replays 1 from the ring
        hub.publish([ev(3, "/a/2"), ev(4, "/a/3"), ev(5, "/a/4")])
        assert [e.revision for e in w.take_ready(2)] == [1, 3]  # the replay first, then live
        assert [e.revision for e in w.take_ready(10)] == [4, 5]
        assert w.take_ready(10) == []  # nothing buffered: empty, not a wait
        hub.publish([ev(6, "/a/5")])
        assert (await w.__anext__()).revision == 6  # iteration and take_ready share one cursor
        assert w.take_ready(10) == []

    asyncio.run(run())


def test_close_nowait_ends_a_waiting_iteration():
    async def run() -> None:
        hub = WatchHub(revision=0, ring_capacity=100)
        w = hub.register("/a/", 0, _no_log)
        waiting = asyncio.ensure_future(w.__anext__())
        await asyncio.sleep(0)  # let it start waiting (no condition to poll: it is one loop turn)
        assert not waiting.done()
        w.close_nowait()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(waiting, 5)
        assert hub.watcher_count() == 0

    asyncio.run(run())


def test_watcher_pages_the_log_then_goes_live_without_duplicates():
    log = [ev(r, "/a/x" if r % 2 else "/b/x") for r in range(1, 11)]

    async def fetch(after: int, limit: int, prefix: str = "") -> tuple[int, list[Event]]:
        return 0, [e for e in log if e.revision > after][:limit]

    async def run() -> None:
        hub = WatchHub(revision=0, ring_capacity=2)
        hub.publish(log)
        w = hub.register("/a/", 2, fetch)
        assert w.needs_log
        hub.publish([ev(11, "/a/y")])
        seen: list[int] = []
        while len(seen) < 5:
            await w.fetch_more(limit=3) if w.needs_log else None
            seen.append((await w.__anext__()).revision)
        assert seen == [3, 5, 7, 9, 11]

    asyncio.run(run())


def test_log_pages_ask_for_the_watchers_prefix_and_a_short_page_ends_the_replay():
    """A store that filters by prefix answers fewer rows than asked: nothing of it is left."""
    log = [ev(r, "/a/x" if r % 10 == 0 else "/b/x") for r in range(1, 101)]
    asked: list[tuple[int, str]] = []

    async def fetch(after: int, limit: int, prefix: str = "") -> tuple[int, list[Event]]:
        asked.append((after, prefix))
        return 0, [e for e in log if e.revision > after and e.key.startswith(prefix)][:limit]

    async def run() -> None:
        hub = WatchHub(revision=0, ring_capacity=5)
        hub.publish(log)
        w = hub.register("/a/", 0, fetch)
        await w.fetch_more(limit=1000)
        assert not w.needs_log  # 10 rows of 1000 asked: the log holds no more for this prefix
        hub.publish([ev(101, "/a/y")])
        seen = [(await w.__anext__()).revision for _ in range(11)]
        assert seen == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 101]
        assert asked == [(0, "/a/")]

    asyncio.run(run())


def test_open_store_rejects_unknown_or_pathless_urls():
    from apiserver.storage import open_store

    with pytest.raises(ValueError, match="unsupported datastore"):
        open_store("mysql://x/y")
    with pytest.raises(ValueError, match="file path"):
        open_store("sqlite:///:memory:")


def test_unopenable_sqlite_file_is_a_clear_error(tmp_path):
    from apiserver.storage import open_store

    async def run() -> None:
        store = open_store(f"sqlite:///{tmp_path}/missing-dir/state.db", compact_interval=0)
        with pytest.raises(StorageError, match="cannot open the sqlite datastore"):
            await store.start()
        with pytest.raises(StorageError, match="not started"):
            await store.get("/x")

    asyncio.run(run())


def _pod_event(rev: int, name: str, node: str, prev_node: str | None = None, typ: str = "MODIFIED") -> Event:
    def value(n: str) -> bytes:
        return orjson.dumps({"metadata": {"name": name}, "spec": {"nodeName": n} if n else {}})

    return Event(typ, f"/pods/{name}", rev, value(node), None if prev_node is None else value(prev_node))


def _node_of(obj: dict) -> str:
    return str((obj.get("spec") or {}).get("nodeName") or "")


def test_triggered_watchers_get_only_events_of_their_value_now_or_before():
    async def run() -> None:
        hub = WatchHub(revision=0, ring_capacity=100)
        n1 = hub.register("/pods/", 0, _no_log, (_node_of, "n1"))
        n2 = hub.register("/pods/", 0, _no_log, (_node_of, "n2"))
        pending = hub.register("/pods/", 0, _no_log, (_node_of, ""))
        everyone = hub.register("/pods/", 0, _no_log)
        assert hub.watcher_count() == 4
        hub.publish(
            [
                _pod_event(1, "a", "", typ="ADDED"),
                _pod_event(2, "a", "n1", ""),
                _pod_event(3, "b", "n2", typ="ADDED"),
                _pod_event(4, "a", "n2", "n1"),
                _pod_event(5, "b", "n2", typ="DELETED"),
            ]
        )

        async def revisions(w: QueueWatcher) -> list[int]:
            out = []
            while w._buf or w._replay:
                out.append((await w.__anext__()).revision)
            return out

        assert await revisions(n1) == [2, 4]  # bound to it, then moved away (the watch says DELETED)
        assert await revisions(n2) == [3, 4, 5]
        assert await revisions(pending) == [1, 2]
        assert await revisions(everyone) == [1, 2, 3, 4, 5]
        assert n1.caught_up() == 5  # nothing pending: a bookmark may say 5
        hub.publish([_pod_event(6, "c", "n2", typ="ADDED")])
        assert n2.caught_up() == 0 and n1.caught_up() == 6
        # the value of a key's previous event is remembered: an event claiming another previous
        # state (which the store never sends) still reaches the watchers of the remembered one
        hub.publish([_pod_event(7, "c", "n1", prev_node="n3")])
        assert await revisions(n2) == [6, 7] and await revisions(n1) == [7]
        for w in (n1, n2, pending, everyone):
            await w.close()
        assert hub.watcher_count() == 0

    asyncio.run(run())

"""Conformance, part 1: keys, values and revisions (every backend, see conftest)."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from apiserver.storage import ConflictError, KeyExistsError, KeyNotFoundError, StorageError
from apiserver.storage.store import SqlStore
from tests.storage.conftest import MakeStore, increment, key, pod, present, watching

pytestmark = pytest.mark.anyio


async def test_create_get_list_count_by_prefix(store):
    a = await store.create(key("a"), pod("a"))
    b = await store.create(key("b"), pod("b"))
    other_ns = await store.create(key("c", "kube-system"), pod("c"))
    await store.create("/registry/podsx/default/z", pod("z"))  # shares a string prefix, not a path

    got = await store.get(key("a"))
    assert got is not None and got.revision == a.revision and got.value == a.value
    assert got.obj["metadata"]["name"] == "a"
    assert await store.get(key("nope")) is None

    rev, items = await store.list("/registry/pods/default/")
    assert [kv.key for kv in items] == [key("a"), key("b")]
    assert rev == await store.current_revision()
    rev, items = await store.list("/registry/pods/")
    assert [kv.key for kv in items] == [key("a"), key("b"), key("c", "kube-system")]
    assert [kv.revision for kv in items] == [a.revision, b.revision, other_ns.revision]
    assert await store.count("/registry/pods/") == 3
    assert await store.count("/registry/") == 4
    assert await store.count("/registry/nodes/") == 0
    _, everything = await store.list("")
    assert len(everything) == 4


async def test_resource_version_in_stored_bytes_is_the_revision(store):
    obj = pod("a")
    kv = await store.create(key("a"), obj)
    assert obj["metadata"]["resourceVersion"] == str(kv.revision)  # the caller's dict is stamped
    stored = await store.get(key("a"))
    assert orjson.loads(stored.value)["metadata"]["resourceVersion"] == str(kv.revision)
    upd = await store.update(key("a"), {**pod("a"), "status": {"phase": "Running"}}, kv.revision)
    stored = await store.get(key("a"))
    assert stored.revision == upd.revision > kv.revision
    assert orjson.loads(stored.value)["metadata"]["resourceVersion"] == str(upd.revision)


async def test_create_existing_key_fails_and_changes_nothing(store):
    first = await store.create(key("a"), pod("a"))
    with pytest.raises(KeyExistsError):
        await store.create(key("a"), pod("a", spec={}))
    assert (await store.get(key("a"))).value == first.value
    assert await store.current_revision() == first.revision


async def test_update_is_compare_and_swap(store):
    kv = await store.create(key("a"), pod("a"))
    v2 = await store.update(key("a"), pod("a", status={"phase": "Pending"}), kv.revision)
    with pytest.raises(ConflictError) as err:
        await store.update(key("a"), pod("a", status={"phase": "Failed"}), kv.revision)
    assert err.value.current_revision == v2.revision
    assert err.value.current_value == v2.value
    with pytest.raises(KeyNotFoundError):
        await store.update(key("missing"), pod("missing"), 1)
    assert (await store.get(key("a"))).obj["status"] == {"phase": "Pending"}


async def test_delete_returns_last_state_at_the_delete_revision(store):
    kv = await store.create(key("a"), pod("a"))
    gone = await store.delete(key("a"))
    assert gone.revision > kv.revision
    assert gone.obj["metadata"]["resourceVersion"] == str(gone.revision)
    assert gone.obj["spec"] == pod("a")["spec"]
    assert await store.get(key("a")) is None
    with pytest.raises(KeyNotFoundError):
        await store.delete(key("a"))
    again = await store.create(key("a"), pod("a"))  # a key can be created again after deletion
    assert again.revision > gone.revision


async def test_delete_with_expected_revision(store):
    kv = await store.create(key("a"), pod("a"))
    v2 = await store.update(key("a"), pod("a", status={}), kv.revision)
    with pytest.raises(ConflictError) as err:
        await store.delete(key("a"), expected_revision=kv.revision)
    assert err.value.current_revision == v2.revision
    assert await store.get(key("a")) is not None
    gone = await store.delete(key("a"), expected_revision=v2.revision)
    assert gone.revision > v2.revision


async def test_revision_is_global_and_monotonic(store):
    revs = []
    for i in range(5):
        revs.append((await store.create(key(f"p{i}"), pod(f"p{i}"))).revision)
        revs.append((await store.create(f"/registry/services/default/s{i}", {"metadata": {}})).revision)
    revs.append((await store.update(key("p0"), pod("p0"), revs[0])).revision)
    revs.append((await store.delete(key("p1"))).revision)
    assert revs == sorted(revs) and len(set(revs)) == len(revs)
    assert revs == list(range(revs[0], revs[0] + len(revs)))  # gapless
    assert await store.current_revision() == revs[-1]


async def test_bad_values_fail_alone_and_consume_no_revision(store):
    before = await store.current_revision()
    results = await asyncio.gather(
        store.create(key("ok1"), pod("ok1")),
        store.create(key("bad"), {"metadata": {"name": "bad"}, "x": {1, 2}}),  # a set: not JSON
        store.create(key("bad2"), {"metadata": "not-an-object"}),
        store.create(key("ok2"), pod("ok2")),
        return_exceptions=True,
    )
    assert isinstance(results[1], StorageError) and "JSON" in str(results[1])
    assert isinstance(results[2], StorageError)
    # (etcd may order the two concurrent good writes either way)
    assert sorted([present(results[0]).revision, present(results[3]).revision]) == [before + 1, before + 2]
    assert await store.get(key("bad")) is None
    with pytest.raises(StorageError):
        await store.create("", pod("empty"))


async def test_concurrent_creates_are_batched_with_distinct_revisions(store):
    n = 400
    results = await asyncio.gather(*(store.create(key(f"p{i}"), pod(f"p{i}")) for i in range(n)))
    revs = sorted(kv.revision for kv in results)
    assert revs == list(range(revs[0], revs[0] + n))
    if isinstance(store, SqlStore):  # group commit took several per transaction
        assert store.stats.transactions < store.stats.writes
    assert store.stats.max_batch > 1  # (etcd: txns in flight at once, which raft batches)
    assert await store.count("/registry/pods/") == n


async def test_same_key_in_one_batch_sees_the_earlier_write(store):
    results = await asyncio.gather(
        *(store.create(key("dup"), pod("dup")) for _ in range(20)), return_exceptions=True
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, KeyExistsError) for r in results if isinstance(r, Exception))


async def test_restart_loses_nothing_and_continues_the_revision(make_store: MakeStore):
    s1 = await make_store()
    start = await s1.current_revision()
    first = [await s1.create(key(f"p{i}"), pod(f"p{i}")) for i in range(50)]
    kv = await s1.update(key("p0"), pod("p0", status={"phase": "Running"}), first[0].revision)
    await s1.delete(key("p1"))
    last = await s1.current_revision()
    _, before = await s1.list("/registry/")
    await s1.close()

    s2 = await make_store()
    assert await s2.current_revision() == last
    _, after = await s2.list("/registry/")
    assert [(x.key, x.revision, x.value) for x in after] == [(x.key, x.revision, x.value) for x in before]
    assert present(await s2.get(key("p0"))).value == kv.value
    assert present(await s2.get(key("p0"))).value == kv.value  # (a sole writer now serves it from memory)
    assert await s2.get(key("p1")) is None
    nxt = await s2.create(key("new"), pod("new"))
    assert present(await s2.get(key("new"))).revision == nxt.revision
    up = await s2.update(key("p0"), pod("p0", status={"phase": "Failed"}), kv.revision)
    assert present(await s2.get(key("p0"))).value == up.value
    await s2.delete(key("p0"))
    assert await s2.get(key("p0")) is None
    assert nxt.revision == last + 1
    events = []
    async with watching(s2, "/registry/pods/", start) as w:
        async for ev in w:
            events.append(ev)
            if ev.revision == nxt.revision:
                break
    assert [ev.revision for ev in events][: nxt.revision - start] == list(range(start + 1, nxt.revision + 1))


async def test_concurrent_read_modify_write_increments_end_exact(store):
    await store.create(key("counter"), pod("counter", data={"n": 0}))
    conflicts = await asyncio.gather(*(increment(store, key("counter")) for _ in range(50)))
    assert (await store.get(key("counter"))).obj["data"]["n"] == 50
    assert sum(conflicts) > 0  # they really raced

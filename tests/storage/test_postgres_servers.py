"""Several API servers on one PostgreSQL: each one's watchers see the others' writes, and
revisions never repeat or go back."""

from __future__ import annotations

import asyncio

import pytest

from apiserver.storage import open_store
from tests.storage.conftest import collect, increment, key, pod, watching

pytestmark = pytest.mark.anyio


@pytest.fixture
async def two_stores(pg_url):
    a = open_store(pg_url, compact_interval=0)
    b = open_store(pg_url, compact_interval=0)
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()


async def test_write_on_one_server_reaches_the_others_watcher_within_a_second(two_stores):
    a, b = two_stores
    async with watching(b, "/registry/pods/", await b.current_revision()) as w:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        kv = await a.create(key("x"), pod("x"))
        events = await collect(w, kv.revision, timeout=1.0)
        assert loop.time() - t0 < 1.0
    assert [(e.type, e.key, e.revision, e.value) for e in events] == [
        ("ADDED", key("x"), kv.revision, kv.value)
    ]
    assert (await b.get(key("x"))).value == kv.value


async def test_concurrent_writers_interleave_without_repeats(two_stores):
    a, b = two_stores
    start = await a.current_revision()
    async with watching(a, "/registry/", start) as wa, watching(b, "/registry/", start) as wb:
        ra, rb = await asyncio.gather(
            asyncio.gather(*(a.create(key(f"a{i}"), pod(f"a{i}")) for i in range(150))),
            asyncio.gather(*(b.create(key(f"b{i}"), pod(f"b{i}")) for i in range(150))),
        )
        revs = sorted(kv.revision for kv in ra + rb)
        assert revs == list(range(start + 1, start + 301))  # distinct, gapless, shared counter
        seen_a = [e.revision for e in await collect(wa, revs[-1])]
        seen_b = [e.revision for e in await collect(wb, revs[-1])]
    assert seen_a == revs and seen_b == revs  # both servers deliver every write once, in order
    assert await a.current_revision() == await b.current_revision() == revs[-1]


async def test_conflicts_are_detected_across_servers(two_stores):
    from apiserver.storage import ConflictError

    a, b = two_stores
    kv = await a.create(key("x"), pod("x"))
    await b.update(key("x"), pod("x", status={"phase": "Running"}), kv.revision)
    with pytest.raises(ConflictError):
        await a.update(key("x"), pod("x", status={"phase": "Failed"}), kv.revision)


async def test_a_new_server_on_the_database_serves_everything(two_stores, pg_url):
    a, _ = two_stores
    kvs = [await a.create(key(f"p{i}"), pod(f"p{i}")) for i in range(20)]
    c = open_store(pg_url, compact_interval=0)
    await c.start()
    try:
        _, items = await c.list("/registry/pods/")
        assert [(x.key, x.value) for x in items] == sorted((x.key, x.value) for x in kvs)
        assert (await c.create(key("new"), pod("new"))).revision == kvs[-1].revision + 1
    finally:
        await c.close()


async def test_increments_through_two_servers_end_exact(two_stores):
    a, b = two_stores
    await a.create(key("counter"), pod("counter", data={"n": 0}))
    await asyncio.gather(*(increment(a if i % 2 else b, key("counter")) for i in range(40)))
    assert (await b.get(key("counter"))).obj["data"]["n"] == 40


async def test_watchers_keep_up_when_the_listen_connection_dies(two_stores, pg_url, pg_engine):
    from sqlalchemy import text

    a, b = two_stores
    schema = pg_url.rsplit("%3D", 1)[1]
    kill = text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE query LIKE 'LISTEN%' AND query LIKE :pat"
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while True:  # the listener connects in the background: wait until there is one to kill
        with pg_engine.connect() as c:
            if c.execute(kill, {"pat": f"%{schema}%"}).rowcount:
                break
        assert loop.time() < deadline, "no LISTEN connection found"
        await asyncio.sleep(0.05)
    async with watching(b, "/registry/", await b.current_revision()) as w:
        for i in range(3):  # before, during and after the listener reconnects
            kv = await a.create(key(f"x{i}"), pod(f"x{i}"))
            assert [e.revision for e in await collect(w, kv.revision, timeout=1.0)] == [kv.revision]
            await asyncio.sleep(0.6)

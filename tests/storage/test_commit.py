"""The commit thread's hand-over (SQLite and PostgreSQL): the writes asked for in one turn of the
event loop reach the thread as one list and commit in one transaction, and a job asked for after
writes (compaction) runs only once they have committed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apiserver.storage import open_store
from apiserver.storage.store import SqlStore
from tests.storage.conftest import pod

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgresql"])
async def sql_store(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/state.db"
    else:
        url = str(request.getfixturevalue("pg_url"))
    store = open_store(url, compact_interval=0)
    assert isinstance(store, SqlStore)
    await store.start()
    yield store
    await store.close()


async def test_one_turn_of_writes_is_handed_over_once(sql_store: SqlStore) -> None:
    committer = sql_store._committer
    assert committer is not None
    await sql_store.create("/registry/pods/default/warm", pod("warm"))  # the connection is open
    before = sql_store.stats.transactions
    tasks = [
        asyncio.ensure_future(sql_store.create(f"/registry/pods/default/p{i}", pod(f"p{i}")))
        for i in range(50)
    ]
    await asyncio.sleep(0)  # every create runs up to its submit within this turn
    assert committer._q.qsize() <= 1  # the thread was handed (at most) one list, not 50 items
    results = await asyncio.gather(*tasks)
    assert sql_store.stats.transactions == before + 1
    assert sorted(kv.revision for kv in results) == list(range(results[0].revision, results[0].revision + 50))


async def test_a_job_runs_after_the_writes_asked_for_before_it(sql_store: SqlStore) -> None:
    from sqlalchemy import text

    assert sql_store._committer is not None
    writes = [sql_store.create(f"/registry/pods/default/q{i}", pod(f"q{i}")) for i in range(20)]
    tasks = [asyncio.ensure_future(w) for w in writes]
    await asyncio.sleep(0)  # the creates run up to their submit; the hand-over is still pending

    def count(conn: Any) -> int:
        return int(
            conn.execute(
                text("SELECT count(*) FROM kubelite_kv WHERE key LIKE '/registry/pods/default/q%'")
            ).scalar()
        )

    seen = await sql_store._committer.run_job(count)
    assert seen == 20
    await asyncio.gather(*tasks)

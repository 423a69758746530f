"""Fixtures for the storage conformance suite: every test runs on SQLite, PostgreSQL and etcd.

SQLite gets a file in tmp_path; PostgreSQL (KUBELITE_TEST_PG, started by
scripts/ensure-postgres.sh) gets a fresh schema per test, selected through libpq's
`options=-csearch_path=...`, and dropped afterwards, so tests never see each other's rows.
`make_store` opens (and at teardown closes) as many stores on the test's datastore as a test
wants: reopening one is a restart, two at once are two API servers.
etcd is one real 3-member cluster for the session (etcd_cluster.py); each test gets its own
key prefix, so tests share etcd's revision counter and compaction but never each other's keys:
tests take revisions relative to the store's at their start, never absolute.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from apiserver.storage import open_store
from apiserver.storage.etcd import EtcdStore
from apiserver.storage.interface import KeyValue
from apiserver.storage.store import SqlStore
from tests.storage.etcd_cluster import EtcdCluster, etcd_cluster

PG_URL = os.environ.get("KUBELITE_TEST_PG", "postgresql://kubelite:kubelite@127.0.0.1/kubelite_test")

AnyStore = SqlStore | EtcdStore
MakeStore = Callable[..., Awaitable[AnyStore]]
SCHEMA_PREFIX = "storage_test_"


def _drop_orphan_schemas(eng: Any) -> None:
    """Drop schemas left by a test run that was killed (its pid is gone), never a live run's."""
    from sqlalchemy import text

    with eng.connect() as c:
        names = (
            c.execute(
                text("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, :p)"), {"p": SCHEMA_PREFIX}
            )
            .scalars()
            .all()
        )
        for name in names:
            pid = name[len(SCHEMA_PREFIX) :].split("_")[0]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                c.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


@pytest.fixture(scope="session")
def pg_engine() -> Any:
    from sqlalchemy import create_engine

    eng = create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg2://", 1), isolation_level="AUTOCOMMIT"
    )
    _drop_orphan_schemas(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def pg_url(pg_engine: Any) -> Any:
    """A fresh, empty schema on the test PostgreSQL, dropped afterwards."""
    from sqlalchemy import text

    schema = f"{SCHEMA_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with pg_engine.connect() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with pg_engine.connect() as c:
        c.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture(scope="session")
def etcd() -> Any:
    """A 3-member etcd cluster on loopback for the whole session, stopped and removed after it."""
    with etcd_cluster(3) as cluster:
        yield cluster


@pytest.fixture
def etcd_url(etcd: EtcdCluster) -> str:
    """The session's etcd under a key prefix of this test's own."""
    return etcd.datastore_url(f"/t-{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["sqlite", "postgresql", "etcd"])
def datastore_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.db"
    if request.param == "etcd":
        return str(request.getfixturevalue("etcd_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def make_store(datastore_url: str) -> AsyncIterator[MakeStore]:
    opened: list[AnyStore] = []

    async def make(**kw: Any) -> AnyStore:
        kw.setdefault("compact_interval", 0)
        store = open_store(datastore_url, **kw)
        await store.start()
        opened.append(store)
        return store

    yield make
    for s in opened:
        await s.close()


@pytest.fixture
async def store(make_store: MakeStore) -> AnyStore:
    return await make_store()


def pod(name: str, **extra: Any) -> dict[str, Any]:
    """A pod-shaped object, as the API layer hands it to the store."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        **extra,
    }


def present(kv: KeyValue | BaseException | None) -> KeyValue:
    """The KeyValue a read or write answered (fails the test on None or an error)."""
    assert isinstance(kv, KeyValue), kv
    return kv


def key(name: str, ns: str = "default") -> str:
    return f"/registry/pods/{ns}/{name}"


async def increment(store: AnyStore, k: str) -> int:
    """Read-modify-write `data.n` of the object at `k` until an update lands; how many conflicted."""
    from apiserver.storage import ConflictError

    conflicts = 0
    while True:
        cur = await store.get(k)
        assert cur is not None
        obj = cur.obj
        obj["data"]["n"] += 1
        try:
            await store.update(k, obj, cur.revision)
            return conflicts
        except ConflictError:
            conflicts += 1


class watching:
    """`async with watching(store, prefix, rev) as w`: closes the watcher however the block ends."""

    def __init__(self, store: AnyStore, prefix: str, rev: int) -> None:
        self.args = (store, prefix, rev)

    async def __aenter__(self) -> Any:
        store, prefix, rev = self.args
        self.w = await store.watch(prefix, rev)
        return self.w

    async def __aexit__(self, *exc: object) -> None:
        await self.w.close()


async def collect(w: Any, until_revision: int, timeout: float = 5.0) -> list[Any]:
    """Events from `w` up to and including `until_revision`, failing after `timeout` seconds."""
    import asyncio

    out: list[Any] = []

    async def run() -> None:
        async for ev in w:
            out.append(ev)
            if ev.revision >= until_revision:
                return

    await asyncio.wait_for(run(), timeout)
    return out

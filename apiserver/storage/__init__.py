"""kine-style storage: one revision counter, current rows + history log, watch from revision.

`open_store(url)` picks the backend from the datastore URL (sqlite:///path, postgresql://...
or etcd://h1:2379,h2:2379).
`open_store(url)` returns a Store that is not started yet: `await store.start()` first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apiserver.storage.interface import (
    CompactedError,
    ConflictError,
    Event,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    StorageError,
    Store,
    Watcher,
    WatcherDroppedError,
)

if TYPE_CHECKING:
    from apiserver.storage.etcd import EtcdStore
    from apiserver.storage.store import Backend, SqlStore


def open_store(
    url: str, *, compact_keep_seconds: float = 300, compact_interval: float = 60, **options: int
) -> SqlStore | EtcdStore:
    """The store for a datastore URL: `sqlite:////abs/path/state.db` or `postgresql://user:pass@host/db`.

    SQLAlchemy is imported here, not at package import, so importers of the errors stay light.
    `options` go to SqlStore (readers, ring_capacity, max_watcher_queue)."""
    if url.startswith(("etcd://", "etcds://")):
        from apiserver.storage.etcd import EtcdStore
        from apiserver.storage.etcd_codec import parse_etcd_url

        return EtcdStore(
            parse_etcd_url(url),
            compact_keep_seconds=compact_keep_seconds,
            compact_interval=compact_interval,
            **options,
        )
    from apiserver.storage.store import SqlStore

    backend: Backend
    if url.startswith("sqlite:///"):
        from apiserver.storage.sqlite import SqliteBackend

        if url == "sqlite:///" or url.startswith("sqlite:///:memory:"):
            raise ValueError("the SQLite datastore needs a file path: sqlite:////abs/path/state.db")
        backend = SqliteBackend(url)
    elif url.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
        from apiserver.storage.postgres import PostgresBackend

        backend = PostgresBackend(url.replace("postgres://", "postgresql://", 1))
    else:
        raise ValueError(
            f"unsupported datastore URL {url!r}: use sqlite:///PATH, postgresql://... or etcd://HOST:PORT,..."
        )
    return SqlStore(
        backend, compact_keep_seconds=compact_keep_seconds, compact_interval=compact_interval, **options
    )


__all__ = [
    "CompactedError",
    "ConflictError",
    "Event",
    "KeyExistsError",
    "KeyNotFoundError",
    "KeyValue",
    "StorageError",
    "Store",
    "Watcher",
    "WatcherDroppedError",
    "open_store",
]

"""SQLite specifics: durable WAL, explicit transactions, one writer connection and a reader pool.

Assumes one process owns the file (the API server); its single commit thread is the only
writer, so BEGIN IMMEDIATE never waits in practice and the busy timeout is a safety net.
`synchronous=FULL` fsyncs the WAL at every commit: a returned create is on disk.
WAL checkpoints (copying the WAL into the database file, with its own fsync) run on a
background thread, PASSIVE, instead of inside whichever commit crosses the autocheckpoint
size: the writer's latency then pays only its WAL fsync.
pysqlite's own transaction handling is switched off (it does not BEGIN before SELECTs), and
SQLAlchemy's begin event issues BEGIN itself, so a reader's several SELECTs share one snapshot.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from apiserver.storage import sql

log = logging.getLogger(__name__)


def _configure(engine: Engine, begin: str) -> Engine:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer thread does it
        cur.execute("PRAGMA journal_size_limit=67108864")  # trim a WAL that a burst grew past 64 MiB
        cur.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


class SqliteBackend:
    name = "sqlite"
    poll_interval: float | None = None  # one process per file: every write goes through our hub

    def __init__(self, url: str) -> None:
        self.url = url
        self._written = threading.Event()
        self.upsert_stmt = sql.kv_upsert(sqlite_insert)

    def make_engines(self, readers: int) -> tuple[Engine, Engine]:
        args = {"check_same_thread": False, "timeout": 10}
        writer = _configure(
            create_engine(self.url, connect_args=args, pool_size=1, max_overflow=1), "BEGIN IMMEDIATE"
        )
        reader = _configure(
            create_engine(self.url, connect_args=args, pool_size=readers, max_overflow=readers), "BEGIN"
        )
        self._path = writer.url.database or ""
        return writer, reader

    def lock_for_write(self, conn: Any) -> None:
        """BEGIN IMMEDIATE already holds the database's write lock."""

    def notify_written(self, conn: Any) -> None:
        """Nobody else reads this file's log (our hub has every commit); just wake the checkpointer."""
        self._written.set()

    def listen(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Start the WAL checkpointer (no other process writes here, so nothing to listen for)."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self._checkpoint_loop, args=(stop,), daemon=True, name="kubelite-store-checkpoint"
        )
        thread.start()

        def stop_checkpointing() -> None:
            stop.set()
            self._written.set()
            thread.join()

        return stop_checkpointing

    def _checkpoint_loop(self, stop: threading.Event, pause: float = 0.25) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=10)
        try:
            conn.execute("PRAGMA synchronous=FULL")
            while True:
                self._written.wait()
                self._written.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as e:
                    log.warning("WAL checkpoint failed: %s", e)
                if stop.wait(pause):  # at most a few checkpoints a second, each for many commits
                    break
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()

"""SQLite specifics: durable WAL, explicit transactions, one writer connection and a reader pool.

Assumes one process owns the file (the API server); its single commit thread is the only
writer, so BEGIN IMMEDIATE never waits in practice and the busy timeout is a safety net.
`synchronous=FULL` fsyncs the WAL at every commit: a returned create is on disk.
WAL checkpoints (copying the WAL into the database file, with its own fsync) run on a
background thread, PASSIVE, instead of inside whichever commit crosses the autocheckpoint
size: the writer's latency then pays only its WAL fsync.
pysqlite's own transaction handling is switched off (it does not BEGIN before SELECTs), and
SQLAlchemy's begin event issues BEGIN itself, so a reader's several SELECTs share one snapshot.
The commit thread's own statements (the revision, the touched rows, the batch's writes) run on
the driver's connection, in the transaction SQLAlchemy began: through SQLAlchemy Core each cost
40-60 us of Python, and a transaction's reads and writes were more of its CPU than its commit
(see `_DriverWrites`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event

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
        conn.connection.driver_connection.execute(begin)  # the driver's own: see _DriverWrites

    return engine


class _DriverWrites:
    """The commit thread's statements as SQL text for sqlite3 itself, built from `sql`'s tables.

    sqlite3 keeps each text prepared, so a call is a few microseconds where SQLAlchemy Core's
    execution (parameters processed, a result object built) took 40-60: measured on a store of
    its own, a one-write transaction cost 456 us of the commit thread's CPU, 240 of them in these
    statements. The touched keys go in as one JSON array (`json_each`), so that the statement's
    text does not change with the batch's size and stays prepared."""

    max_revision = f"SELECT coalesce(max(revision), 0) FROM {sql.log.name}"
    rows_for_keys = (
        f"SELECT key, mod_revision, create_revision, value FROM {sql.kv.name} "
        "WHERE key IN (SELECT value FROM json_each(?))"
    )
    upsert = (
        sql.insert_sql(sql.kv, sql.KV_COLUMNS, sql.placeholders("?", len(sql.KV_COLUMNS)))
        + sql.KV_ON_CONFLICT
    )
    delete = f"DELETE FROM {sql.kv.name} WHERE key = ?"
    insert_log = sql.insert_sql(sql.log, sql.LOG_COLUMNS, sql.placeholders("?", len(sql.LOG_COLUMNS)))


class SqliteBackend:
    name = "sqlite"
    poll_interval: float | None = None  # one process per file: every write goes through our hub

    def __init__(self, url: str) -> None:
        self.url = url
        self._written = threading.Event()

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

    def read_for_write(self, conn: Any, keys: list[str]) -> tuple[int, dict[str, sql.CurrentRow]]:
        db = conn.connection.driver_connection
        (base,) = db.execute(_DriverWrites.max_revision).fetchone()
        found = db.execute(_DriverWrites.rows_for_keys, (json.dumps(keys),))
        return int(base), {k: (mod, created, value) for k, mod, created, value in found}

    def apply_writes(
        self, conn: Any, upserts: list[dict[str, Any]], deletes: list[str], log_rows: list[dict[str, Any]]
    ) -> None:
        """The batch's kv and log rows; then the checkpointer is woken (nobody else reads this
        file's log: our hub has every commit)."""
        db = conn.connection.driver_connection
        if upserts:
            db.executemany(_DriverWrites.upsert, [tuple(r[c] for c in sql.KV_COLUMNS) for r in upserts])
        if deletes:
            db.executemany(_DriverWrites.delete, [(k,) for k in deletes])
        if log_rows:
            db.executemany(_DriverWrites.insert_log, [tuple(r[c] for c in sql.LOG_COLUMNS) for r in log_rows])
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

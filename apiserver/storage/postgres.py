"""PostgreSQL specifics: several API server processes share one database.

Revisions are assigned inside the write transaction under a transaction-scoped advisory lock
(one per schema): max(revision) + 1 read under the lock cannot repeat or go back, and since
PostgreSQL makes a commit visible before it releases the transaction's locks, commits become
visible in revision order — a reader that sees revision N sees every revision below it.
Each store learns the other servers' writes by reading the log for revisions above the newest
it has published (store.py). Every write transaction NOTIFYs a per-schema channel (delivered at
commit); a listener thread wakes that catch-up read at once, and a slow timer poll remains as
the safety net should the listening connection drop.
Readers use REPEATABLE READ so a LIST's rows and revision come from one snapshot.
A write batch is three round trips on psycopg2's own connection (`_BatchSql`): the lock and the
reads in one, the writes and the NOTIFY in one, the commit. Through SQLAlchemy Core it was seven
or eight (lock, revision, rows, upsert, delete, log, notify, commit), each ~100 us of this
process's CPU.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, text

from apiserver.storage import sql

log = logging.getLogger(__name__)

_NOTIFY_SQL = "SELECT pg_notify('kubelite:' || current_schema(), '')"
_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('kubelite:' || current_schema()))"
_LOCK = text(_LOCK_SQL)


class _BatchSql:
    """A write batch's statements as SQL text for psycopg2 (which sends several statements, its
    parameters interpolated, as one query), built from `sql`'s tables.

    The read runs after the lock in the same query, so its snapshot (READ COMMITTED: one per
    statement) is taken under the lock and sees every commit before it; the store's revision
    comes as the row whose key is NULL."""

    read = (
        f"{_LOCK_SQL}; "
        f"SELECT NULL::text, coalesce(max(revision), 0)::bigint, 0::bigint, NULL::bytea FROM {sql.log.name} "
        f"UNION ALL SELECT key, mod_revision, create_revision, value FROM {sql.kv.name} WHERE key = ANY(%s)"
    )

    @classmethod
    def writes(
        cls, upserts: list[dict[str, Any]], deletes: list[str], log_rows: list[dict[str, Any]]
    ) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        if upserts:
            values = sql.placeholders("%s", len(sql.KV_COLUMNS), len(upserts))
            parts.append(sql.insert_sql(sql.kv, sql.KV_COLUMNS, values) + sql.KV_ON_CONFLICT)
            params += [r[c] for r in upserts for c in sql.KV_COLUMNS]
        if deletes:
            parts.append(f"DELETE FROM {sql.kv.name} WHERE key = ANY(%s)")
            params.append(list(deletes))
        if log_rows:
            values = sql.placeholders("%s", len(sql.LOG_COLUMNS), len(log_rows))
            parts.append(sql.insert_sql(sql.log, sql.LOG_COLUMNS, values))
            params += [r[c] for r in log_rows for c in sql.LOG_COLUMNS]
        parts.append(_NOTIFY_SQL)  # delivered at commit, to every server's listener
        return "; ".join(parts), params


class PostgresBackend:
    name = "postgresql"
    poll_interval: float | None = 0.5  # the fallback; NOTIFY wakes the catch-up read at once

    def __init__(self, url: str) -> None:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg2://" + url[len("postgresql://") :]
        self.url = url

        self._reader: Engine | None = None

    def make_engines(self, readers: int) -> tuple[Engine, Engine]:
        writer = create_engine(self.url, pool_size=1, max_overflow=1, pool_pre_ping=True)
        reader = create_engine(
            self.url, pool_size=readers, max_overflow=readers, isolation_level="REPEATABLE READ"
        )
        self._reader = reader
        return writer, reader

    def lock_for_write(self, conn: Any) -> None:
        conn.execute(_LOCK)

    def read_for_write(self, conn: Any, keys: list[str]) -> tuple[int, dict[str, sql.CurrentRow]]:
        """Take the write lock, then read the store's revision and the rows of `keys`: one round trip."""
        with conn.connection.driver_connection.cursor() as cur:
            cur.execute(_BatchSql.read, (keys,))
            base, rows = 0, {}
            for key, mod, created, value in cur.fetchall():
                if key is None:
                    base = int(mod)
                else:
                    rows[key] = (int(mod), int(created), bytes(value))
        return base, rows

    def apply_writes(
        self, conn: Any, upserts: list[dict[str, Any]], deletes: list[str], log_rows: list[dict[str, Any]]
    ) -> None:
        """The batch's kv rows, its log rows and the NOTIFY: one round trip."""
        text_, params = _BatchSql.writes(upserts, deletes, log_rows)
        with conn.connection.driver_connection.cursor() as cur:
            cur.execute(text_, params)

    def listen(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Call `wake` (from a thread) whenever any server commits; returns a stop function."""
        stop = threading.Event()
        stop_r, stop_w = os.pipe()  # lets stop() interrupt the listener's select at once
        thread = threading.Thread(
            target=self._listen, args=(wake, stop, stop_r), daemon=True, name="kubelite-store-listen"
        )
        thread.start()

        def stop_listening() -> None:
            stop.set()
            os.write(stop_w, b"x")
            thread.join()
            os.close(stop_r)
            os.close(stop_w)

        return stop_listening

    def _listen(self, wake: Callable[[], None], stop: threading.Event, stop_fd: int) -> None:
        from psycopg2 import sql as pgsql

        assert self._reader is not None
        while not stop.is_set():
            raw: Any = None
            try:
                raw = self._reader.raw_connection()
                dbapi = raw.driver_connection
                dbapi.autocommit = True
                with dbapi.cursor() as cur:
                    cur.execute("SELECT 'kubelite:' || current_schema()")
                    channel = cur.fetchone()[0]
                    cur.execute(pgsql.SQL("LISTEN {}").format(pgsql.Identifier(channel)))
                wake()  # anything committed before LISTEN took effect is read now
                while not stop.is_set():
                    if stop_fd in select.select([dbapi, stop_fd], [], [], 5.0)[0]:
                        break
                    dbapi.poll()  # also on timeout: a dead connection raises here
                    if dbapi.notifies:
                        dbapi.notifies.clear()
                        wake()
            except Exception as e:
                log.warning("storage listener lost its connection (%s); retrying", e)
                stop.wait(1.0)
            finally:
                if raw is not None:
                    try:
                        raw.invalidate()  # never return a LISTENing connection to the pool
                    except Exception:
                        pass

"""PostgreSQL specifics: several API server processes share one database.

Revisions are assigned inside the write transaction under a transaction-scoped advisory lock
(one per schema): max(revision) + 1 read under the lock cannot repeat or go back, and since
PostgreSQL makes a commit visible before it releases the transaction's locks, commits become
visible in revision order — a reader that sees revision N sees every revision below it.
Each store therefore learns the other servers' writes by polling the log for revisions above
the newest it has published (store.py), with its own commits as the wake-up.
Readers use REPEATABLE READ so a LIST's rows and revision come from one snapshot.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from apiserver.storage import sql

_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('kubelite:' || current_schema()))")


class PostgresBackend:
    name = "postgresql"
    poll_interval: float | None = 0.2  # other servers' writes reach our watchers within this

    def __init__(self, url: str) -> None:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg2://" + url[len("postgresql://"):]
        self.url = url
        kv = sql.kv
        stmt = pg_insert(kv)
        self.upsert_stmt = stmt.on_conflict_do_update(
            index_elements=[kv.c.key],
            set_={"mod_revision": stmt.excluded.mod_revision,
                  "create_revision": stmt.excluded.create_revision,
                  "value": stmt.excluded.value})

    def make_engines(self, readers: int) -> tuple[Engine, Engine]:
        writer = create_engine(self.url, pool_size=1, max_overflow=1, pool_pre_ping=True)
        reader = create_engine(self.url, pool_size=readers, max_overflow=readers, pool_pre_ping=True,
                               isolation_level="REPEATABLE READ")
        return writer, reader

    def lock_for_write(self, conn: Any) -> None:
        conn.execute(_LOCK)

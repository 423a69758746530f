"""Schema and the statements the store runs, as SQLAlchemy Core, shared by SQLite and PostgreSQL.

kine's model: `kv` holds the current state (one row per key), `log` the history (one row per
revision, written in the same transaction as `kv`), `meta` the persisted compacted revision.
Revisions are gapless (1, 2, 3 ...): each write transaction takes max(log.revision) + 1 while it
holds the write lock, and compaction never deletes the newest log row, so max(revision) is
always the store's revision, also after a restart.

Everything here is synchronous and runs on a worker thread with a Connection; statement
objects are built once at import so SQLAlchemy's compiled cache hits every time. A write
batch's own statements (revision, touched rows, writes) are each backend's, as SQL text on the
driver's connection (`sqlite._DriverWrites`, `postgres._BatchSql`): they run for every write,
and SQLAlchemy's execution cost more CPU than the database did.
Keys compare bytewise (`COLLATE "C"` on PostgreSQL, SQLite's default BINARY), so a prefix is
the range [prefix, prefix_end).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from apiserver.storage.interface import CompactedError, Event, KeyValue

KeyType = String().with_variant(String(collation="C"), "postgresql")

metadata = MetaData()

kv = Table(
    "kubelite_kv",
    metadata,
    Column("key", KeyType, primary_key=True),
    Column("mod_revision", BigInteger, nullable=False),
    Column("create_revision", BigInteger, nullable=False),
    Column("value", LargeBinary, nullable=False),
)

log = Table(
    "kubelite_log",
    metadata,
    Column("revision", BigInteger, primary_key=True, autoincrement=False),
    Column("key", KeyType, nullable=False),
    Column("type", String(8), nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("prev_revision", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("kubelite_log_created_at", "created_at"),
)

meta = Table(
    "kubelite_meta",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

COMPACTED = "compacted"


def prefix_end(prefix: str) -> str | None:
    """The smallest string above every string starting with `prefix` (None: no upper bound)."""
    if not prefix:
        return None
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


# --- statements, built once -------------------------------------------------------------------

_max_revision = select(func.coalesce(func.max(log.c.revision), 0))
_compacted = select(meta.c.value).where(meta.c.name == COMPACTED)
_get = select(kv.c.mod_revision, kv.c.value).where(kv.c.key == bindparam("key"))
_list_all = select(kv.c.key, kv.c.mod_revision, kv.c.value).order_by(kv.c.key)
_list_range = _list_all.where(kv.c.key >= bindparam("lo"), kv.c.key < bindparam("hi"))
_count_all = select(func.count()).select_from(kv)
_count_range = _count_all.where(kv.c.key >= bindparam("lo"), kv.c.key < bindparam("hi"))
_prev = log.alias("prev")
_log_after = (
    select(log.c.revision, log.c.key, log.c.type, log.c.value, _prev.c.value)
    .select_from(log.outerjoin(_prev, _prev.c.revision == log.c.prev_revision))
    .where(log.c.revision > bindparam("after"))
    .order_by(log.c.revision)
    .limit(bindparam("limit"))
)
# one prefix's rows only: a watch resuming behind the ring pages in its own kind, not every write
_log_after_range = _log_after.where(log.c.key >= bindparam("lo"), log.c.key < bindparam("hi"))
_revision_before = (
    select(log.c.revision)
    .where(log.c.created_at < bindparam("cutoff"))
    .order_by(log.c.created_at.desc())
    .limit(1)
)
# compaction keeps, per key, the newest row at or below the compacted revision (kine's rule):
# a paged list at any revision the log still covers can then rebuild every key's value
_superseded_in = select(log.c.prev_revision).where(
    log.c.revision > bindparam("lo"), log.c.revision <= bindparam("hi")
)
_delete_superseded = delete(log).where(log.c.revision.in_(_superseded_in.scalar_subquery()))
_delete_tombstones = delete(log).where(
    log.c.revision > bindparam("lo"), log.c.revision <= bindparam("hi"), log.c.type == "DELETED"
)
_page_at = (
    select(kv.c.key, kv.c.mod_revision, kv.c.value)
    .where(kv.c.mod_revision <= bindparam("rev"))
    .order_by(kv.c.key)
    .limit(bindparam("limit"))
)
_count_at = select(func.count()).select_from(kv).where(kv.c.mod_revision <= bindparam("rev"))
_changed_since = (
    select(log.c.key, log.c.type, log.c.prev_revision)
    .where(log.c.revision > bindparam("rev"))
    .order_by(log.c.revision)
)
_values_at = select(log.c.revision, log.c.value).where(log.c.revision.in_(bindparam("revs", expanding=True)))
_update_compacted = update(meta).where(meta.c.name == COMPACTED).values(value=bindparam("v"))
_insert_compacted = insert(meta).values(name=COMPACTED, value=0)


def create_schema(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=True)
    if conn.execute(_compacted).scalar() is None:
        conn.execute(_insert_compacted)


def max_revision(conn: Connection) -> int:
    return int(conn.execute(_max_revision).scalar_one())


def compacted_revision(conn: Connection) -> int:
    return int(conn.execute(_compacted).scalar() or 0)


def get(conn: Connection, key: str) -> KeyValue | None:
    row = conn.execute(_get, {"key": key}).first()
    return None if row is None else KeyValue(key, row[0], row[1])


def list_prefix(conn: Connection, prefix: str) -> list[KeyValue]:
    hi = prefix_end(prefix)
    rows = conn.execute(_list_all) if hi is None else conn.execute(_list_range, {"lo": prefix, "hi": hi})
    return [KeyValue(k, r, v) for k, r, v in rows]


def count_prefix(conn: Connection, prefix: str) -> int:
    hi = prefix_end(prefix)
    stmt = conn.execute(_count_all) if hi is None else conn.execute(_count_range, {"lo": prefix, "hi": hi})
    return int(stmt.scalar_one())


CurrentRow = tuple[int, int, bytes]  # mod_revision, create_revision, value

# the write batches' SQL text (each backend runs it on its driver: sqlite._DriverWrites,
# postgres._BatchSql); SQLite and PostgreSQL share the INSERT ... ON CONFLICT syntax
KV_COLUMNS = tuple(c.name for c in kv.columns)
LOG_COLUMNS = tuple(c.name for c in log.columns)
KV_ON_CONFLICT = " ON CONFLICT (key) DO UPDATE SET " + ", ".join(
    f"{n} = excluded.{n}" for n in KV_COLUMNS if n != "key"
)


def insert_sql(table: Table, columns: tuple[str, ...], values: str) -> str:
    """`INSERT INTO table (columns) VALUES values`, the placeholders in `values` the driver's own."""
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {values}"


def placeholders(marker: str, columns: int, rows: int = 1) -> str:
    """`(?, ?), (?, ?)` for 2 columns and 2 rows with marker `?`."""
    one = "(" + ", ".join([marker] * columns) + ")"
    return ", ".join([one] * rows)


def events_after(conn: Connection, after: int, limit: int, prefix: str = "") -> list[Event]:
    """Log rows with revision > after (under `prefix`), oldest first, as Events (prev value joined
    in when kept)."""
    hi = prefix_end(prefix)
    if hi is None:
        rows = conn.execute(_log_after, {"after": after, "limit": limit})
    else:
        rows = conn.execute(_log_after_range, {"after": after, "limit": limit, "lo": prefix, "hi": hi})
    return [Event(t, k, rev, v, pv) for rev, k, t, v, pv in rows]


def revision_before(conn: Connection, cutoff: float) -> int | None:
    return conn.execute(_revision_before, {"cutoff": cutoff}).scalar()


def compact_log_range(conn: Connection, lo: int, hi: int) -> None:
    """Compact from revision lo to hi: drop the rows that a later row at or below hi supersedes
    (also rows kept by earlier compactions) and the deletions; each key's newest row stays."""
    params = {"lo": lo, "hi": hi}
    conn.execute(_delete_superseded, params)
    conn.execute(_delete_tombstones, params)


def page_at(
    conn: Connection, prefix: str, start: str, limit: int, revision: int
) -> tuple[int, list[KeyValue], int]:
    """Store.list_page in one snapshot (kv rows and the log rows after the revision agree)."""
    with conn.begin():
        rev = revision or max_revision(conn)
        compacted = compacted_revision(conn)
        if rev < compacted:
            raise CompactedError(rev, compacted)
        try:
            items, remaining = list_at(conn, prefix, start, limit, rev)
        except KeyError as e:  # a version the page needs was compacted away
            raise CompactedError(rev, compacted) from e
        return rev, items, remaining


def list_at(conn: Connection, prefix: str, start: str, limit: int, rev: int) -> tuple[list[KeyValue], int]:
    """Up to `limit` keys under `prefix` from `start` (inclusive) as they were at revision `rev`,
    and how many more there were. Keys unchanged since `rev` come from `kv`; the others are
    rebuilt from the log: a key's first row after `rev` names its version at `rev`."""
    hi = prefix_end(prefix)
    # a start ending in NUL (kube's continue keys: "just after this key") is a strict bound,
    # as PostgreSQL's text cannot hold NUL
    after = start.endswith("\0") and start[:-1] >= prefix
    lo = start[:-1] if after else max(prefix, start)

    def bound(stmt: Any, col: Any) -> Any:
        stmt = stmt.where(col > lo if after else col >= lo)
        return stmt if hi is None else stmt.where(col < hi)

    p = {"rev": rev}
    first_after: dict[str, tuple[str, int]] = {}
    for k, typ, prev in conn.execute(bound(_changed_since, log.c.key), p):
        first_after.setdefault(k, (typ, prev))
    wanted = {k: prev for k, (typ, prev) in first_after.items() if typ != "ADDED" and prev > 0}
    values = dict(conn.execute(_values_at, {"revs": sorted(set(wanted.values()))}).all()) if wanted else {}
    rebuilt = []
    for k, prev in wanted.items():
        if prev not in values:
            raise KeyError(k)
        rebuilt.append(KeyValue(k, prev, values[prev]))
    # a key changed after rev has a newer kv row or none: `kv` rows at or below rev are the rest
    unchanged = [
        KeyValue(k, r, v) for k, r, v in conn.execute(bound(_page_at, kv.c.key), {**p, "limit": limit + 1})
    ]
    page = sorted(unchanged + rebuilt, key=lambda x: x.key)[:limit]
    total = int(conn.execute(bound(_count_at, kv.c.key), p).scalar_one()) + len(rebuilt)
    return page, total - len(page)


def set_compacted(conn: Connection, revision: int) -> None:
    conn.execute(_update_compacted, {"v": revision})

"""`SqlStore`: the Store on SQLAlchemy Core, for SQLite and PostgreSQL alike.

Writes go to the group-commit thread (commit.py); reads run on a small pool of reader threads
with their own connections (SQLite's WAL lets them run beside the writer). Committed events
reach the watch hub (hub.py) on the event loop before the writers' futures resolve, so once a
create returns, a watch from any earlier revision includes it.

With `poll_interval` (PostgreSQL), a catch-up task also reads the log for revisions above the
hub's, woken by the backend's listener (NOTIFY) or its timer: that is how other API servers'
writes reach this one's watchers, and how this server catches up whenever its own batch does
not follow on from the hub (another server committed in between).

A sole writer (SQLite: no `poll_interval`) also keeps the current value of every key it
wrote, updated with the events on the loop before the writers' futures resolve: a `get`
(every update's read half: a kubelet's status write, a binding) is then a dict lookup
instead of a round trip to a reader thread, and never older than this server's own writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine

from apiserver.storage import sql
from apiserver.storage.batch import CREATE, DELETE, UPDATE, Outcome, WriteRequest
from apiserver.storage.commit import CommitStats, Committer
from apiserver.storage.compactor import compact_job, compaction_loop
from apiserver.storage.hub import QueueWatcher, Trigger, WatchHub
from apiserver.storage.interface import Event, KeyValue, StorageError

log = logging.getLogger(__name__)
T = TypeVar("T")
Events = list[Event]
Futures = list[asyncio.Future[Any]]
Outcomes = list[Outcome]
KeyValues = list[KeyValue]


class Backend(Protocol):
    name: str
    poll_interval: float | None

    def make_engines(self, readers: int) -> tuple[Engine, Engine]: ...

    def lock_for_write(self, conn: Any) -> None: ...

    def read_for_write(self, conn: Any, keys: list[str]) -> tuple[int, dict[str, sql.CurrentRow]]: ...

    def apply_writes(
        self, conn: Any, upserts: list[dict[str, Any]], deletes: list[str], log_rows: list[dict[str, Any]]
    ) -> None: ...

    def listen(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Start the backend's background thread (PostgreSQL: LISTEN for other servers' commits
        and call `wake`; SQLite: WAL checkpoints); returns its stop function."""


class SqlStore:
    def __init__(
        self,
        backend: Backend,
        *,
        compact_keep_seconds: float = 300,
        compact_interval: float = 60,
        readers: int = 4,
        ring_capacity: int = 10000,
        max_watcher_queue: int = 10000,
    ) -> None:
        self.backend = backend
        self.compact_keep_seconds = compact_keep_seconds
        self.compact_interval = compact_interval
        self._readers = readers
        self._ring_capacity = ring_capacity
        self._max_watcher_queue = max_watcher_queue
        self._writer: Engine | None = None
        self._reader: Engine | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._committer: Committer | None = None
        self.hub = WatchHub(0)
        self._compacted = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._poll_wake = asyncio.Event()
        self._closing = False
        self._stop_listening: Callable[[], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # key -> current value, for a sole writer only (other servers' writes would bypass it)
        self._latest: dict[str, KeyValue] | None = None

    def _to_loop(self, fn: Callable[[], object]) -> None:
        """Schedule `fn` on the store's loop from another thread (no-op once the loop is gone)."""
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(fn)

    @property
    def stats(self) -> CommitStats:
        """The commit thread's counters (all zero before the store starts)."""
        return self._committer.stats if self._committer is not None else CommitStats()

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        self._closing = False
        self._writer, self._reader = self.backend.make_engines(self._readers)
        self._pool = ThreadPoolExecutor(self._readers, thread_name_prefix="kubelite-store-read")
        try:
            revision, self._compacted = await self._read(self._init_schema, self._writer)
        except Exception as e:
            await self.close()
            raise StorageError(f"cannot open the {self.backend.name} datastore: {e}") from e
        self.hub = WatchHub(revision, self._ring_capacity, self._max_watcher_queue)
        self._latest = {} if self.backend.poll_interval is None else None
        self._committer = Committer(self._writer, self.backend, loop, self._deliver)
        self._committer.start()
        self._poll_wake = asyncio.Event()
        self._stop_listening = self.backend.listen(lambda: self._to_loop(self._poll_wake.set))
        if self.backend.poll_interval is not None:
            self._tasks.append(asyncio.create_task(self._poll_loop(self.backend.poll_interval)))
        if self.compact_interval > 0:
            self._tasks.append(
                asyncio.create_task(compaction_loop(self, self.compact_keep_seconds, self.compact_interval))
            )

    def _init_schema(self, conn: Connection) -> tuple[int, int]:
        with conn.begin():
            self.backend.lock_for_write(conn)  # several servers may start at once
            sql.create_schema(conn)
        return sql.max_revision(conn), sql.compacted_revision(conn)

    async def close(self) -> None:
        self._closing = True
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        if self._committer is not None:  # queued writes still commit
            self._committer.flush()
            await asyncio.to_thread(self._committer.stop)
            self._committer = None
        if self._stop_listening is not None:  # after the writes: SQLite's last checkpoint sees them
            await asyncio.to_thread(self._stop_listening)
            self._stop_listening = None
        self.hub.close()
        self._latest = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for eng in (self._writer, self._reader):
            if eng is not None:
                eng.dispose()
        self._writer = self._reader = None

    # --- reads --------------------------------------------------------------------------------

    async def _read(self, fn: Callable[[Connection], T], engine: Engine | None = None) -> T:
        eng = engine or self._reader
        if eng is None or self._pool is None:
            raise StorageError("store is not started")

        def run() -> T:
            with eng.connect() as conn:
                return fn(conn)

        return await asyncio.get_running_loop().run_in_executor(self._pool, run)

    async def current_revision(self) -> int:
        if self.backend.poll_interval is None:
            return self.hub.revision  # sole writer: the hub has every commit
        return await self._read(sql.max_revision)

    async def compacted_revision(self) -> int:
        return self._compacted

    async def get(self, key: str) -> KeyValue | None:
        latest = self._latest
        if latest is None:
            return await self._read(lambda c: sql.get(c, key))
        kv = latest.get(key)
        if kv is not None:  # a fresh KeyValue: its parse (`.obj`) must not stay in the cache
            return KeyValue(kv.key, kv.revision, kv.value)
        before = self.hub.revision
        kv = await self._read(lambda c: sql.get(c, key))
        if kv is not None and self.hub.revision == before and self._latest is latest:
            latest[key] = kv  # nothing committed during the read: the row is current
            return KeyValue(kv.key, kv.revision, kv.value)
        return kv

    async def list(self, prefix: str) -> tuple[int, KeyValues]:
        def run(conn: Connection) -> tuple[int, KeyValues]:
            with conn.begin():  # one snapshot for the revision and the rows
                rev = sql.max_revision(conn)
                return rev, sql.list_prefix(conn, prefix)

        return await self._read(run)

    async def list_page(
        self, prefix: str, limit: int, start_key: str = "", revision: int = 0
    ) -> tuple[int, KeyValues, int]:
        return await self._read(lambda c: sql.page_at(c, prefix, start_key, limit, revision))

    async def count(self, prefix: str) -> int:
        return await self._read(lambda c: sql.count_prefix(c, prefix))

    # --- writes -------------------------------------------------------------------------------

    async def _write(self, req: WriteRequest) -> KeyValue:
        if self._committer is None:
            raise StorageError("store is not started")
        if not isinstance(req.key, str) or not req.key:
            raise StorageError("key must be a non-empty string")
        kv: KeyValue = await self._committer.submit(req)
        return kv

    async def create(self, key: str, obj: dict[str, Any]) -> KeyValue:
        return await self._write(WriteRequest(CREATE, key, obj))

    async def update(self, key: str, obj: dict[str, Any], expected_revision: int) -> KeyValue:
        return await self._write(WriteRequest(UPDATE, key, obj, expected_revision))

    async def delete(self, key: str, expected_revision: int | None = None) -> KeyValue:
        return await self._write(WriteRequest(DELETE, key, None, expected_revision))

    def _deliver(self, futs: Futures, outcomes: Outcomes, events: Events) -> None:
        """On the loop: publish the batch's events, then resolve the writers."""
        # A refused batch on PostgreSQL: another server committed in between; the catch-up read
        # (woken by our own NOTIFY) delivers it all in order. On SQLite we are the only writer,
        # so a gap cannot be filled anyway.
        if events and not self.hub.publish(events) and self.backend.poll_interval is None:
            log.warning("revision gap before %d; publishing anyway", events[0].revision)
            self.hub.publish(events, allow_gap=True)
        latest = self._latest
        if latest is not None:
            for ev in events:
                if ev.type == "DELETED":
                    latest.pop(ev.key, None)
                else:
                    latest[ev.key] = KeyValue(ev.key, ev.revision, ev.value)
        for fut, out in zip(futs, outcomes, strict=True):
            if fut.done():
                continue
            if isinstance(out, BaseException):
                fut.set_exception(out)
            else:
                fut.set_result(out)

    # --- watch --------------------------------------------------------------------------------

    async def _fetch_page(self, after: int, limit: int, prefix: str = "") -> tuple[int, Events]:
        def run(conn: Connection) -> tuple[int, Events]:
            with conn.begin():
                return sql.compacted_revision(conn), sql.events_after(conn, after, limit, prefix)

        return await self._read(run)

    async def watch(self, prefix: str, after_revision: int, trigger: Trigger | None = None) -> QueueWatcher:
        return await self.hub.start(
            prefix, after_revision, self._fetch_page, trigger, self._compacted, self._saw_compacted
        )

    def _saw_compacted(self, revision: int) -> None:
        self._compacted = max(self._compacted, revision)

    async def _poll_loop(self, interval: float) -> None:
        """Publish log rows above the hub's revision (other servers' writes, or our own after a gap)."""
        while not self._closing:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel that races a wake-up
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._poll_wake.wait()
            self._poll_wake.clear()
            try:
                while True:
                    compacted, events = await self._fetch_page(self.hub.revision, 5000)
                    self._saw_compacted(compacted)
                    self.hub.publish(events, allow_gap=True)
                    if len(events) < 5000:
                        break
            except Exception as e:  # the database may be briefly away; keep polling
                log.warning("storage poll failed: %s", e)

    # --- compaction ---------------------------------------------------------------------------

    async def compact(self, keep_seconds: float) -> int:
        if self._committer is None:
            raise StorageError("store is not started")
        cutoff = time.time() - keep_seconds

        def job(conn: Connection) -> tuple[int, bool]:
            self.backend.lock_for_write(conn)  # one compactor at a time across servers
            return compact_job(conn, cutoff)

        while True:
            compacted, more = await self._committer.run_job(job)
            self._saw_compacted(compacted)
            if not more:
                return self._compacted

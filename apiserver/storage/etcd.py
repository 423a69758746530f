"""`EtcdStore`: the Store on an etcd v3 cluster (several API servers share it, like kube's).

The store's revision is etcd's revision: every write is one etcd txn, so revisions are etcd's
(gapless while only this store writes to the cluster). Writes are compare-and-swap in the txn:
create compares the key's create_revision with 0, update and a delete with a precondition
compare its mod_revision; the failure branch reads the key so a conflict reports the current
revision and value. Concurrent writes need no group commit here: etcd batches them into raft
proposals itself (the bench shows the rate).

Watches: one etcd watch (with prev_kv) on the store's key prefix feeds the same WatchHub the
SQL stores use (ring of recent events, bounded queue per watcher, triggers); a watch from
before the ring pages old events in through short-lived etcd watches (etcd_watch.py).
Compaction is etcd's: `compact(keep)` compacts to the newest revision this store saw at least
`keep` seconds ago. The store has no TTL notion (events live like other objects), so leases
are not used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

from apiserver.storage import etcd_watch
from apiserver.storage.compactor import compaction_loop, compaction_target
from apiserver.storage.etcd_client import REPLAYED, EtcdClient, EtcdError, b64, range_end, unb64
from apiserver.storage.etcd_codec import EtcdURL, decode_value, encode_value, stamp
from apiserver.storage.hub import QueueWatcher, Trigger, WatchHub
from apiserver.storage.interface import (
    CompactedError,
    ConflictError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    StorageError,
)

log = logging.getLogger(__name__)
KeyValues = list[KeyValue]


class EtcdStats:
    """What the store sent; etcd itself batches concurrent txns into raft proposals."""

    def __init__(self) -> None:
        self.writes = 0
        self.transactions = 0
        self.max_batch = 0  # most txns in flight at once


class EtcdStore:
    def __init__(
        self,
        url: EtcdURL,
        *,
        compact_keep_seconds: float = 300,
        compact_interval: float = 60,
        ring_capacity: int = 10000,
        max_watcher_queue: int = 10000,
        **_ignored: int,
    ) -> None:
        self.url = url
        self.prefix = url.prefix
        self.compact_keep_seconds = compact_keep_seconds
        self.compact_interval = compact_interval
        self._ring_capacity = ring_capacity
        self._max_watcher_queue = max_watcher_queue
        self.client: EtcdClient | None = None
        self.hub = WatchHub(0)
        self.stats = EtcdStats()
        self._in_flight = 0
        self._compacted = 0
        self._seen: deque[tuple[float, int]] = deque()  # (time, revision) samples for compaction
        self._tasks: list[asyncio.Task[None]] = []

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self.client = EtcdClient(self.url.endpoints, self.url.ssl_context())
        try:
            revision = await self.current_revision()
            self._compacted = await etcd_watch.probe_compacted(self.client)
        except (EtcdError, StorageError) as e:
            await self.close()
            raise StorageError(f"cannot open the etcd datastore: {e}") from e
        self.hub = WatchHub(revision, self._ring_capacity, self._max_watcher_queue)
        self._note(revision)
        self._tasks.append(asyncio.create_task(etcd_watch.feed(self)))
        if self.compact_interval > 0:
            self._tasks.append(
                asyncio.create_task(compaction_loop(self, self.compact_keep_seconds, self.compact_interval))
            )

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        if self._tasks:  # bounded: a task stuck in a member's socket must not hold the close
            done, stuck = await asyncio.wait(self._tasks, timeout=5)
            for t in done:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    t.result()
            if stuck:
                log.warning("etcd store: %d task(s) did not stop within 5 s", len(stuck))
        self._tasks.clear()
        self.hub.close()
        if self.client is not None:
            await self.client.close()
            self.client = None

    def _call_client(self) -> EtcdClient:
        if self.client is None:
            raise StorageError("store is not started")
        return self.client

    async def _call(self, path: str, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self._call_client().call(path, request)
        except EtcdError as e:
            if e.compacted:
                raise CompactedError(int(request.get("revision", 0)), self._compacted) from e
            raise StorageError(f"etcd: {e}") from e

    def _k(self, key: str) -> str:
        return self.prefix + key

    def _note(self, revision: int) -> None:
        """Remember when a revision was seen (what compaction's time window is measured on), in
        50 ms slots: a busy store keeps a few thousand samples for a 5 minute window, not one
        per write (a slot's revisions count as seen at its start: at most 50 ms early)."""
        now = time.time()
        if self._seen and revision <= self._seen[-1][1]:
            return
        if self._seen and now - self._seen[-1][0] < 0.05:
            self._seen[-1] = (self._seen[-1][0], revision)
            return
        self._seen.append((now, revision))
        if len(self._seen) > 100000:
            self._seen.popleft()

    def kv_from(self, item: dict[str, Any]) -> KeyValue:
        rev = int(item["mod_revision"])
        return KeyValue(
            unb64(item["key"]).decode()[len(self.prefix) :],
            rev,
            decode_value(unb64(item.get("value", "")), rev),
        )

    # --- reads --------------------------------------------------------------------------------

    async def current_revision(self) -> int:
        resp = await self._call("/v3/kv/range", {"key": b64(self._k("/")), "count_only": True})
        return int(resp["header"]["revision"])

    async def compacted_revision(self) -> int:
        return self._compacted

    async def get(self, key: str) -> KeyValue | None:
        resp = await self._call("/v3/kv/range", {"key": b64(self._k(key))})
        kvs = resp.get("kvs")
        return self.kv_from(kvs[0]) if kvs else None

    def _range(self, prefix: str, start: str = "") -> dict[str, Any]:
        return {"key": b64(self._k(max(prefix, start)) or "\0"), "range_end": range_end(self._k(prefix))}

    async def list(self, prefix: str) -> tuple[int, KeyValues]:
        resp = await self._call("/v3/kv/range", self._range(prefix))
        return int(resp["header"]["revision"]), [self.kv_from(i) for i in resp.get("kvs", ())]

    async def list_page(
        self, prefix: str, limit: int, start_key: str = "", revision: int = 0
    ) -> tuple[int, KeyValues, int]:
        if revision and revision < self._compacted:
            raise CompactedError(revision, self._compacted)
        req = {**self._range(prefix, start_key), "limit": str(limit), "revision": str(revision)}
        resp = await self._call("/v3/kv/range", req)
        items = [self.kv_from(i) for i in resp.get("kvs", ())]
        rev = revision or int(resp["header"]["revision"])
        return rev, items, int(resp.get("count", 0)) - len(items)

    async def count(self, prefix: str) -> int:
        resp = await self._call("/v3/kv/range", {**self._range(prefix), "count_only": True})
        return int(resp.get("count", 0))

    # --- writes -------------------------------------------------------------------------------

    async def _txn(self, compare: dict[str, Any], success: dict[str, Any], key: str) -> dict[str, Any]:
        if not isinstance(key, str) or not key:
            raise StorageError("key must be a non-empty string")
        self.stats.writes += 1
        self.stats.transactions += 1
        self._in_flight += 1
        self.stats.max_batch = max(self.stats.max_batch, self._in_flight)
        try:
            resp = await self._call(
                "/v3/kv/txn",
                {
                    "compare": [{"key": b64(self._k(key)), **compare}],
                    "success": [success],
                    "failure": [{"request_range": {"key": b64(self._k(key))}}],
                },
            )
        finally:
            self._in_flight -= 1
        rev = int(resp["header"]["revision"])
        self._note(rev)
        return resp

    def _failed(self, resp: dict[str, Any]) -> StorageError:
        kvs = resp["responses"][0]["response_range"].get("kvs")
        if not kvs:
            return KeyNotFoundError("key not found")
        cur = self.kv_from(kvs[0])
        return ConflictError(cur.revision, cur.value)

    async def create(self, key: str, obj: dict[str, Any]) -> KeyValue:
        value = encode_value(obj)
        resp = await self._txn(
            {"target": "CREATE", "create_revision": "0"},
            {"request_put": {"key": b64(self._k(key)), "value": b64(value)}},
            key,
        )
        if not resp.get("succeeded"):
            kvs = resp["responses"][0]["response_range"].get("kvs")
            if not (resp.get(REPLAYED) and kvs and unb64(kvs[0].get("value", "")) == value):
                raise KeyExistsError(key)
            # the client sent the txn again (the member died under it) and finds the very bytes
            # of this create, fresh uid and all: the first send landed, the create succeeded
            rev = int(kvs[0]["mod_revision"])
        else:
            rev = int(resp["header"]["revision"])
        stamp(obj, rev)
        return KeyValue(key, rev, decode_value(value, rev))

    async def update(self, key: str, obj: dict[str, Any], expected_revision: int) -> KeyValue:
        value = encode_value(obj)
        resp = await self._txn(
            {"target": "MOD", "mod_revision": str(expected_revision)},
            {"request_put": {"key": b64(self._k(key)), "value": b64(value)}},
            key,
        )
        if not resp.get("succeeded"):
            raise self._failed(resp)
        rev = int(resp["header"]["revision"])
        stamp(obj, rev)
        return KeyValue(key, rev, decode_value(value, rev))

    async def delete(self, key: str, expected_revision: int | None = None) -> KeyValue:
        # without a precondition: "the key exists" (create_revision > 0), so a miss reads as 404
        compare = (
            {"target": "CREATE", "result": "GREATER", "create_revision": "0"}
            if expected_revision is None
            else {"target": "MOD", "mod_revision": str(expected_revision)}
        )
        resp = await self._txn(
            compare, {"request_delete_range": {"key": b64(self._k(key)), "prev_kv": True}}, key
        )
        if not resp.get("succeeded"):
            raise self._failed(resp)
        rev = int(resp["header"]["revision"])
        prev = resp["responses"][0]["response_delete_range"]["prev_kvs"][0]
        return KeyValue(key, rev, decode_value(unb64(prev.get("value", "")), rev))

    # --- watch and compaction -----------------------------------------------------------------

    async def watch(self, prefix: str, after_revision: int, trigger: Trigger | None = None) -> QueueWatcher:
        return await self.hub.start(
            prefix, after_revision, self._fetch_page, trigger, self._compacted, self._saw_compacted
        )

    def _saw_compacted(self, revision: int) -> None:
        self._compacted = max(self._compacted, revision)

    async def _fetch_page(self, after: int, limit: int, prefix: str = "") -> tuple[int, Any]:
        """etcd's history is read by revision for every key: `prefix` is left to the watcher."""
        compacted, events = await etcd_watch.history(self, after, limit, self.hub.revision)
        self._saw_compacted(compacted)
        return compacted, events

    async def compact(self, keep_seconds: float) -> int:
        cutoff = time.time() - keep_seconds
        before = None
        for t, rev in self._seen:
            if t > cutoff:
                break
            before = rev
        target = compaction_target(await self.current_revision(), before, self._compacted)
        # never past what the feed has published: etcd cancels a watch that is behind its
        # compaction, and the feed would have to drop every watcher (wait for it a little)
        deadline = time.monotonic() + 2
        while self.hub.revision < target and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        target = min(target, self.hub.revision)
        if target <= self._compacted:
            return self._compacted
        try:
            await self._call_client().call("/v3/kv/compaction", {"revision": str(target)})
        except EtcdError as e:
            if not e.compacted:  # another API server compacted past it: learn how far
                raise StorageError(f"etcd compaction failed: {e}") from e
            target = await etcd_watch.probe_compacted(self._call_client())
        self._compacted = max(self._compacted, target)
        while self._seen and self._seen[0][1] < self._compacted:
            self._seen.popleft()
        return self._compacted

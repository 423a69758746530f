"""etcd watches for the etcd store: the live feed into the hub, history pages, the compacted revision.

`feed` keeps one etcd watch (prev_kv) on the store's key prefix from the hub's revision + 1 and
publishes every event; when the stream breaks (a member went away) it re-watches from where
it got to on the next endpoint, so nothing is lost or repeated. If etcd compacted past that
point meanwhile, the hub's watchers are closed (their clients re-watch, get 410 and relist).

`history` serves a watcher that starts before the ring: a short-lived watch on the whole
keyspace from the wanted revision, read until it passes `upto` (whole keyspace, because the
revision `upto` may belong to a key outside the store's prefix). `probe_compacted` learns
etcd's compacted revision, which etcd only tells a watch that starts below it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from apiserver.storage.etcd_client import EtcdClient, EtcdError, b64, range_end, unb64
from apiserver.storage.etcd_codec import decode_value
from apiserver.storage.hub import WatchHub
from apiserver.storage.interface import Event

if TYPE_CHECKING:
    from apiserver.storage.etcd import EtcdStore

log = logging.getLogger(__name__)
_EVERYTHING = {"key": b64(b"\0"), "range_end": b64(b"\0")}
IDLE = 2.0  # seconds without a message after which a history read stops (nothing more to come)


def to_event(item: dict[str, Any], prefix: str) -> Event:
    kv, prev = item["kv"], item.get("prev_kv")
    key = unb64(kv["key"]).decode()[len(prefix) :]
    rev = int(kv["mod_revision"])
    prev_value = decode_value(unb64(prev.get("value", "")), int(prev["mod_revision"])) if prev else None
    if item.get("type") == "DELETE":
        last = unb64(prev.get("value", "")) if prev else b"{}"
        return Event("DELETED", key, rev, decode_value(last, rev), prev_value)
    kind = "ADDED" if kv.get("create_revision") == kv["mod_revision"] else "MODIFIED"
    return Event(kind, key, rev, decode_value(unb64(kv.get("value", "")), rev), prev_value)


async def _next(stream: Any, timeout: float) -> dict[str, Any] | None:
    try:
        async with asyncio.timeout(timeout):
            msg: dict[str, Any] = await anext(stream)
            return msg
    except (TimeoutError, StopAsyncIteration):
        return None


async def probe_compacted(client: EtcdClient) -> int:
    """etcd's compacted revision (0 when it never compacted)."""
    head = await client.call("/v3/kv/range", {"key": b64(b"\0"), "count_only": True})
    if int(head["header"]["revision"]) <= 1:
        return 0
    stream = client.watch({**_EVERYTHING, "start_revision": "1"})
    try:
        while (msg := await _next(stream, IDLE)) is not None:
            if int(msg.get("compact_revision", 0)):
                return int(msg["compact_revision"])
            if msg.get("events"):
                return 0
        return 0
    finally:
        await stream.aclose()


async def history(store: EtcdStore, after: int, limit: int, upto: int) -> tuple[int, list[Event]]:
    """(compacted revision, up to `limit` events under the store's prefix with revision > after)."""
    client = store.client
    if client is None:
        raise EtcdError("store is not started")
    out: list[Event] = []
    prefix = store.prefix.encode()
    stream = client.watch({**_EVERYTHING, "start_revision": str(after + 1), "prev_kv": True})
    try:
        while (msg := await _next(stream, IDLE)) is not None:
            if int(msg.get("compact_revision", 0)):
                return int(msg["compact_revision"]), []
            for item in msg.get("events", ()):
                if unb64(item["kv"]["key"]).startswith(prefix):
                    out.append(to_event(item, store.prefix))
                if int(item["kv"]["mod_revision"]) >= upto or len(out) >= limit:
                    return 0, out
    finally:
        await stream.aclose()
    return 0, out


async def feed(store: EtcdStore) -> None:
    """Publish the store's etcd events into its hub, forever (cancel to stop)."""
    client = store.client
    assert client is not None
    key = store.prefix or "\0"
    backoff = 0.05
    while True:
        stream = client.watch(
            {
                "key": b64(key),
                "range_end": range_end(store.prefix),
                "start_revision": str(store.hub.revision + 1),
                "prev_kv": True,
            }
        )
        try:
            async for msg in stream:
                backoff = 0.05
                if int(msg.get("compact_revision", 0)):
                    _restart_hub(store, int(msg["compact_revision"]))
                    break
                items = msg.get("events")
                if items:
                    events = [to_event(i, store.prefix) for i in items]
                    store.hub.publish(events, allow_gap=True)  # other keys' revisions leave gaps
                    store._note(events[-1].revision)
        except EtcdError as e:
            log.warning("etcd watch broke (%s); re-watching from %d", e, store.hub.revision + 1)
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 2.0)


def _restart_hub(store: EtcdStore, compacted: int) -> None:
    """The feed fell behind a compaction: its watchers can no longer be served in order."""
    log.warning("etcd compacted to %d past this server's watch; watchers must relist", compacted)
    store._compacted = max(store._compacted, compacted)
    store.hub.close()
    store.hub = WatchHub(compacted, store._ring_capacity, store._max_watcher_queue)

"""An event recorder with Kubernetes-style aggregation, shared by controllers, scheduler, kubelet.

`record(obj, type, reason, message)` never blocks and never fails the caller: events are
best-effort, as in client-go. One Event object exists per (involved object, reason, message,
source); a repeat bumps its `count` and `lastTimestamp` instead of creating a new object, so a
busy loop does not flood the store. Like client-go's EventAggregator, once one object has had
10 different messages for one reason (e.g. "Created pod: x" for each pod of an RC), further
ones are folded into a single "(combined from similar events): ..." Event. Repeats arriving
before the first write lands are folded into one write. `qps`/`burst` put a token bucket in front
of the writes, as the kubelet's eventRecordQPS/eventBurst do (what waits meanwhile folds).
An event waiting to be written is held by the write queue itself, not by the aggregation cache, so
the cache's eviction never loses one; when more than `max_backlog` objects' events wait (a
recorder writing slower than it records), a new one is dropped and counted, with a warning, as
client-go's broadcaster drops what its full queue cannot take.
Assumes a client with `create` and `patch` (as `AsyncClient`).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Protocol

from api import jsonutil
from api.errors import ApiError

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"
MAX_SIMILAR = 10  # distinct messages per (object, reason) before combining
COMBINED = "(combined from similar events): "


class EventClient(Protocol):
    async def create(self, r: Any, obj: dict[str, Any], namespace: str | None = None) -> Any: ...

    async def patch(
        self, r: Any, name: str, body: Any, content_type: str = ..., namespace: str | None = None
    ) -> Any: ...


@dataclass
class _Entry:
    name: str
    namespace: str
    count: int = 0  # written to the server
    pending: int = 0  # recorded, not yet written
    first: str = ""
    last: str = ""
    written: bool = False
    body: dict[str, Any] | None = None
    message: str = ""


def involved_ref(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    ref = {
        "kind": obj.get("kind", ""),
        "apiVersion": obj.get("apiVersion", "v1"),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    return ref


def aggregation_key(ref: dict[str, Any], reason: str, message: str, component: str) -> tuple[str, ...]:
    return (
        ref.get("kind", ""),
        ref.get("namespace", ""),
        ref.get("name", ""),
        ref.get("uid", ""),
        reason,
        message,
        component,
    )


class EventRecorder:
    def __init__(
        self,
        client: EventClient,
        component: str,
        host: str = "",
        max_in_flight: int = 8,
        cache_size: int = 4096,
        qps: float = 0.0,
        burst: int = 1,
        max_backlog: int = 16384,
    ) -> None:
        self.client = client
        self.component = component
        self.host = host
        self._entries: collections.OrderedDict[tuple[str, ...], _Entry] = collections.OrderedDict()
        self._dirty: collections.OrderedDict[tuple[str, ...], _Entry] = collections.OrderedDict()  # to write
        self._max_backlog = max_backlog
        self.dropped = 0  # events not written because the backlog was full
        self._dropped_logged = 0.0
        self._wake = asyncio.Event()
        self._cache_size = cache_size
        self._sem = asyncio.Semaphore(max_in_flight)
        self._busy: set[tuple[str, ...]] = set()
        self._similar: collections.OrderedDict[tuple[str, ...], set[str]] = collections.OrderedDict()
        self._qps, self._burst = qps, max(1, burst)
        self._tokens, self._refilled = float(self._burst), -1.0

    def record(self, obj: dict[str, Any], type_: str, reason: str, message: str) -> None:
        ref = involved_ref(obj)
        similar_key = (*aggregation_key(ref, reason, "", self.component), type_)
        seen = self._similar.get(similar_key)
        if seen is None:
            seen = self._similar[similar_key] = set()
            while len(self._similar) > self._cache_size:
                self._similar.popitem(last=False)
        if message in seen or len(seen) < MAX_SIMILAR:
            seen.add(message)
            key = aggregation_key(ref, reason, message, self.component)
        else:
            message = COMBINED + message
            key = (*similar_key, "combined")
        now = jsonutil.now_str()
        e = self._entries.get(key) or self._dirty.get(key)
        if e is None and len(self._dirty) >= self._max_backlog:
            self._drop(reason, ref)
            return
        if e is None:
            ns = ref.get("namespace") or "default"
            name = f"{ref['name']}.{os.urandom(8).hex()}"
            e = _Entry(name=name, namespace=ns, first=now)
            e.body = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": name, "namespace": ns},
                "involvedObject": ref,
                "reason": reason,
                "message": message,
                "type": type_,
                "source": {"component": self.component, **({"host": self.host} if self.host else {})},
                "reportingComponent": self.component,
                "reportingInstance": self.host,
            }
            self._entries[key] = e
            while len(self._entries) > self._cache_size:
                self._entries.popitem(last=False)
        elif key in self._entries:
            self._entries.move_to_end(key)
        else:  # evicted from the cache while waiting to be written: cached again
            self._entries[key] = e
        e.pending += 1
        e.last = now
        e.message = message
        self._dirty[key] = e
        self._wake.set()
        log.debug("event %s %s %s: %s", type_, ref.get("name"), reason, message)

    async def run(self) -> None:
        """Write recorded events until cancelled."""
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                for key in [k for k in self._dirty if k not in self._busy]:
                    e = self._dirty.pop(key)
                    if e.pending == 0:
                        continue
                    await self._token()
                    await self._sem.acquire()
                    self._busy.add(key)
                    t = asyncio.create_task(self._write(key, e))
                    tasks.add(t)
                    t.add_done_callback(tasks.discard)
        finally:
            for t in tasks:
                t.cancel()

    async def _token(self) -> None:
        if self._qps <= 0:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._refilled >= 0:
            self._tokens = min(float(self._burst), self._tokens + (now - self._refilled) * self._qps)
        self._refilled = now
        if self._tokens < 1:
            await asyncio.sleep((1 - self._tokens) / self._qps)
            self._tokens, self._refilled = 1.0, loop.time()
        self._tokens -= 1

    async def flush(self, timeout: float = 5.0) -> None:
        """Wait until everything recorded so far is written (for tests and shutdown)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while (self._dirty or self._busy) and loop.time() < end:
            await asyncio.sleep(0.01)

    async def _write(self, key: tuple[str, ...], e: _Entry) -> None:
        n = e.pending
        try:
            if not e.written:
                assert e.body is not None
                body = dict(e.body, count=n, firstTimestamp=e.first, lastTimestamp=e.last, message=e.message)
                await self.client.create("events", body, e.namespace)
                e.written = True
            else:
                await self.client.patch(
                    "events",
                    e.name,
                    {"count": e.count + n, "lastTimestamp": e.last, "message": e.message},
                    namespace=e.namespace,
                )
            e.count += n
            e.pending -= n
        except asyncio.CancelledError:
            raise
        except ApiError as err:
            log.info("event %s/%s not written: %s", e.namespace, e.name, err)
            if err.code == 404 and e.written:  # the Event expired: start a new one next time
                e.written = False
                e.count = 0
            else:
                e.pending -= n  # best effort: drop rather than retry forever
        except Exception as err:
            log.info("event %s/%s not written: %r", e.namespace, e.name, err)
            e.pending -= n
        finally:
            self._busy.discard(key)
            self._sem.release()
            if e.pending:
                self._dirty[key] = e
                self._wake.set()

    def _drop(self, reason: str, ref: dict[str, Any]) -> None:
        self.dropped += 1
        now = time.monotonic()
        if now - self._dropped_logged >= 10.0:  # one line per 10 s, however many are dropped
            self._dropped_logged = now
            log.warning(
                "%s: dropped event %s of %s %s (%d dropped so far): %d objects' events are waiting to be written",
                self.component,
                reason,
                ref.get("kind", ""),
                ref.get("name", ""),
                self.dropped,
                len(self._dirty),
            )

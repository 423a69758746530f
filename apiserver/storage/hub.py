"""Watch fan-out: rings of recent events (one per resource) and one bounded queue per watcher.

Runs on the event loop only, so registering a watcher and publishing a batch never interleave:
a watcher registered at hub revision R gets the ring's events after its start revision, then
every event published later (all > R) — no gap, no duplicate. A watcher that starts before the
ring's floor first pages older events in through `fetch_page` (the log table) up to R.
As kube-apiserver keeps a watch cache per resource, each resource's events have a ring of
their own (`EventRings`, by the key's `/registry/<plural>/` part): an informer's watch, made
after its list, replays only its own kind's events since then, however many pods and Events
were written meanwhile, and ConfigMap history is not pushed out of reach by a pod burst.

Writers never wait on watchers: `publish` appends to each matching watcher's buffer and wakes
it; a watcher whose buffer passes its bound is dropped (its iteration raises
WatcherDroppedError) instead of buffering without limit.

A watcher may register a `Trigger` (kube's watch-cache IndexerFunc): a function of an object
and the value the watcher wants, e.g. a kubelet's pods by `spec.nodeName`. Such watchers are
indexed by that value, and an event reaches only those whose value the object has now or had
before: a hundred kubelets' watches cost one lookup per event, not a hundred byte scans and
queue hops. The trigger only narrows delivery; the watch still applies its full selectors.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from apiserver.storage.interface import CompactedError, Event, WatcherDroppedError

# (after_revision, limit, key prefix) -> (compacted revision, events after it, oldest first: all
# keys, or only those under the prefix; fewer than `limit` means none are left)
FetchPage = Callable[[int, int, str], Awaitable[tuple[int, list[Event]]]]
# (index function of a stored object, the value this watcher wants)
Trigger = tuple[Callable[[dict[str, Any]], str], str]


class EventRing:
    """The newest `capacity` events; holds every event with revision > `floor`."""

    def __init__(self, capacity: int, floor: int) -> None:
        self._events: deque[Event] = deque()
        self.capacity = capacity
        self.floor = floor

    def append(self, ev: Event) -> None:
        """Keep a bare copy: the live watchers share `ev` and its parse (`ev.obj`), which goes
        with it once they are done; parses held for every event in the ring would cost ~30 KB
        a pod event, hundreds of MiB for a full ring. A late watcher replaying parses again."""
        if len(self._events) >= self.capacity:
            self.floor = self._events.popleft().revision
        self._events.append(Event(ev.type, ev.key, ev.revision, ev.value, ev.prev_value))

    def covers(self, after_revision: int) -> bool:
        return after_revision >= self.floor

    def after(self, revision: int) -> list[Event]:
        """Events with revision > `revision`, oldest first (walks back from the newest)."""
        out: list[Event] = []
        for ev in reversed(self._events):
            if ev.revision <= revision:
                break
            out.append(ev)
        out.reverse()
        return out

    def __len__(self) -> int:
        return len(self._events)


def bucket_of(key: str) -> str | None:
    """The ring of a key or of a watch prefix: its first two path segments (`/registry/pods/`;
    a group's kinds, `/registry/apps/`, share one). None when there are fewer: such a key goes
    to a catch-all ring, and a watch prefix that short reads every ring."""
    first = key.find("/", 1)
    second = key.find("/", first + 1) if first > 0 else -1
    return None if second < 0 else key[: second + 1]


class EventRings:
    """One `EventRing` per bucket, each of `capacity`: a busy resource evicts only its own
    history. A bucket's ring is made at its first event, with the hub's starting floor: no
    event of it came before."""

    def __init__(self, capacity: int, floor: int) -> None:
        self.capacity = capacity
        self.floor = floor
        self._rings: dict[str, EventRing] = {}

    def append(self, ev: Event) -> None:
        bucket = bucket_of(ev.key) or ""
        ring = self._rings.get(bucket)
        if ring is None:
            ring = self._rings[bucket] = EventRing(self.capacity, self.floor)
        ring.append(ev)

    def _for(self, prefix: str) -> list[EventRing] | None:
        """The ring holding every event under `prefix`; None when that takes all of them."""
        bucket = bucket_of(prefix)
        if bucket is None:
            return None
        ring = self._rings.get(bucket)
        return [] if ring is None else [ring]

    def covers(self, after_revision: int, prefix: str = "") -> bool:
        rings = self._for(prefix)
        floors = [r.floor for r in (self._rings.values() if rings is None else rings)]
        return after_revision >= max(floors, default=self.floor)

    def after(self, revision: int, prefix: str = "") -> list[Event]:
        """Events under `prefix` with revision > `revision`, oldest first."""
        rings = self._for(prefix)
        if rings is None:
            merged = heapq.merge(*(r.after(revision) for r in self._rings.values()), key=_revision)
            return [ev for ev in merged if ev.key.startswith(prefix)]
        return [ev for r in rings for ev in r.after(revision) if ev.key.startswith(prefix)]

    def __len__(self) -> int:
        return sum(len(r) for r in self._rings.values())


def _revision(ev: Event) -> int:
    return ev.revision


class QueueWatcher:
    """One watch: replay (ring or log pages), then live events from a bounded buffer."""

    def __init__(
        self, hub: WatchHub, prefix: str, after_revision: int, max_queue: int, trigger: Trigger | None = None
    ) -> None:
        self._hub = hub
        self.prefix = prefix
        self.trigger = trigger
        self._last = after_revision  # newest revision handed out; skips anything not newer
        self._replay: deque[Event] = deque()
        self._buf: deque[Event] = deque()
        self._max_queue = max_queue
        self._waiter: asyncio.Future[None] | None = None
        self._fetched = after_revision  # log pages read up to here ...
        self._replay_upto = after_revision  # ... and needed up to here
        self._fetch: FetchPage | None = None
        self.dropped = False
        self.closed = False
        self.compacted_seen = 0  # the log's compacted revision at the last page read

    @property
    def needs_log(self) -> bool:
        return self._fetched < self._replay_upto

    def caught_up(self) -> int:
        """The hub's revision when nothing is pending for this watcher (every event up to it was
        handed out or was not for it), else 0: a bookmark may say this much."""
        if self._replay or self._buf or self.needs_log or self.dropped:
            return 0
        return self._hub.revision

    def push(self, events: list[Event]) -> bool:
        """Queue live events; False (and dropped) when over the bound."""
        if len(self._buf) + len(events) > self._max_queue:
            self.dropped = True
            self._buf.clear()
            self._wake()
            return False
        self._buf.extend(events)
        self._wake()
        return True

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def __aiter__(self) -> QueueWatcher:
        return self

    async def __anext__(self) -> Event:
        while True:
            if self.dropped:
                raise WatcherDroppedError(f"watcher on {self.prefix!r} fell behind")
            if self._replay:
                ev = self._replay.popleft()
            elif self._fetched < self._replay_upto:
                await self.fetch_more()
                continue
            elif self._buf:
                ev = self._buf.popleft()
            elif self.closed:
                raise StopAsyncIteration
            else:
                self._waiter = asyncio.get_running_loop().create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
                continue
            if ev.revision > self._last:
                self._last = ev.revision
                return ev

    def take_ready(self, limit: int) -> list[Event]:
        """Up to `limit` events that are here already, without waiting: what a stream writes in
        the same write as the event it woke for. Stops where a log page would have to be read."""
        out: list[Event] = []
        while len(out) < limit and not self.dropped:
            if self._replay:
                ev = self._replay.popleft()
            elif self._fetched < self._replay_upto or not self._buf:
                break
            else:
                ev = self._buf.popleft()
            if ev.revision > self._last:
                self._last = ev.revision
                out.append(ev)
        return out

    async def fetch_more(self, limit: int = 1000) -> None:
        """Read the next page of the log between the start revision and the hub's at registration."""
        assert self._fetch is not None
        compacted, events = await self._fetch(self._fetched, limit, self.prefix)
        self.compacted_seen = compacted
        if compacted > self._fetched:  # compacted under our feet: the client must relist
            self.dropped = True
            return
        for ev in events:
            if ev.revision > self._replay_upto:
                break
            if ev.key.startswith(self.prefix):
                self._replay.append(ev)
        self._fetched = events[-1].revision if len(events) >= limit else self._replay_upto

    async def close(self) -> None:
        self.close_nowait()

    def close_nowait(self) -> None:
        if not self.closed:
            self.closed = True
            self._hub.unregister(self)
            self._wake()


class WatchHub:
    def __init__(self, revision: int, ring_capacity: int = 10000, max_queue: int = 10000) -> None:
        self.revision = revision  # newest event published
        self.ring = EventRings(ring_capacity, revision)
        self.max_queue = max_queue
        self._by_prefix: dict[str, set[QueueWatcher]] = {}
        # (prefix, index function) -> wanted value -> watchers
        self._by_trigger: dict[tuple[str, Callable[[dict[str, Any]], str]], dict[str, set[QueueWatcher]]] = {}
        # (prefix, index function) -> key -> its value in the newest event (while the trigger has watchers)
        self._values: dict[tuple[str, Callable[[dict[str, Any]], str]], dict[str, str]] = {}
        self.dropped_count = 0

    def watcher_count(self) -> int:
        return sum(len(ws) for ws in self._by_prefix.values()) + sum(
            len(ws) for idx in self._by_trigger.values() for ws in idx.values()
        )

    def register(
        self, prefix: str, after_revision: int, fetch: FetchPage, trigger: Trigger | None = None
    ) -> QueueWatcher:
        """Start a watcher; when `w.needs_log`, the caller awaits `w.fetch_more()` once to learn
        early whether the log still reaches back that far."""
        w = QueueWatcher(self, prefix, after_revision, self.max_queue, trigger)
        if self.ring.covers(after_revision, prefix):
            w._replay.extend(self.ring.after(after_revision, prefix))
        else:
            w._fetch = fetch
            w._replay_upto = self.revision
        if trigger is None:
            self._by_prefix.setdefault(prefix, set()).add(w)
        else:
            self._by_trigger.setdefault((prefix, trigger[0]), {}).setdefault(trigger[1], set()).add(w)
            self._values.setdefault((prefix, trigger[0]), {})
        return w

    async def start(
        self,
        prefix: str,
        after_revision: int,
        fetch: FetchPage,
        trigger: Trigger | None,
        compacted: int,
        saw_compacted: Callable[[int], None],
    ) -> QueueWatcher:
        """`register`, and page the log in once where needed: a start older than the compacted
        history (`compacted` as the store knows it, or as the log shows: told to `saw_compacted`)
        raises CompactedError."""
        if after_revision < compacted:
            raise CompactedError(after_revision, compacted)
        w = self.register(prefix, after_revision, fetch, trigger)
        if w.needs_log:
            try:
                await w.fetch_more()
            except BaseException:
                w.close_nowait()
                raise
            if w.dropped:
                w.close_nowait()
                saw_compacted(w.compacted_seen)
                raise CompactedError(after_revision, w.compacted_seen)
        return w

    def unregister(self, w: QueueWatcher) -> None:
        if w.trigger is None:
            _discard(self._by_prefix, w.prefix, w)
            return
        index = self._by_trigger.get((w.prefix, w.trigger[0]))
        if index is not None:
            _discard(index, w.trigger[1], w)
            if not index:
                del self._by_trigger[(w.prefix, w.trigger[0])]
                self._values.pop((w.prefix, w.trigger[0]), None)

    def publish(self, events: list[Event], allow_gap: bool = False) -> bool:
        """Append events newer than the hub's revision and fan them out. Without `allow_gap`,
        a batch that does not follow on from the hub's revision is refused (False): the caller
        catches up from the log instead, which keeps delivery in revision order."""
        fresh = [ev for ev in events if ev.revision > self.revision]
        if not fresh:
            return True
        if fresh[0].revision != self.revision + 1:
            if not allow_gap:
                return False
            for known in self._values.values():  # events were missed: values may be stale
                known.clear()
        for ev in fresh:
            self.ring.append(ev)
        self.revision = fresh[-1].revision
        for prefix, group in list(self._by_prefix.items()):
            matched = fresh if not prefix else [ev for ev in fresh if ev.key.startswith(prefix)]
            if not matched:
                continue
            self._push(group, matched)
        for (prefix, fn), index in list(self._by_trigger.items()):
            per_value: dict[str, list[Event]] = {}
            known = self._values[(prefix, fn)]
            for ev in fresh:
                if not ev.key.startswith(prefix):
                    continue
                now = fn(ev.obj)
                per_value.setdefault(now, []).append(ev)
                before = known.get(ev.key)  # the value of the previous event of the key: no second parse
                if before is None and ev.prev_value is not None:
                    before = fn(ev.prev_obj or {})
                if before is not None and before != now:
                    per_value.setdefault(before, []).append(ev)  # it left that value: a DELETED there
                if ev.type == "DELETED":
                    known.pop(ev.key, None)
                else:
                    known[ev.key] = now
            for value, evs in per_value.items():
                wanting = index.get(value)
                if wanting:
                    self._push(wanting, evs)
        return True

    def _push(self, group: set[QueueWatcher], events: list[Event]) -> None:
        for w in list(group):
            if not w.push(events):
                self.dropped_count += 1
                self.unregister(w)

    def close(self) -> None:
        groups = list(self._by_prefix.values()) + [
            g for idx in self._by_trigger.values() for g in idx.values()
        ]
        for group in groups:
            for w in list(group):
                w.close_nowait()


def _discard(index: dict[str, set[QueueWatcher]], k: str, w: QueueWatcher) -> None:
    group = index.get(k)
    if group is not None:
        group.discard(w)
        if not group:
            del index[k]

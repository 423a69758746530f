"""Watch fan-out: a ring of recent events (all keys) and one bounded queue per watcher.

Runs on the event loop only, so registering a watcher and publishing a batch never interleave:
a watcher registered at hub revision R gets the ring's events after its start revision, then
every event published later (all > R) — no gap, no duplicate. A watcher that starts before the
ring's floor first pages older events in through `fetch_page` (the log table) up to R.

Writers never wait on watchers: `publish` appends to each matching watcher's buffer and wakes
it; a watcher whose buffer passes its bound is dropped (its iteration raises
WatcherDroppedError) instead of buffering without limit.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from apiserver.storage.interface import Event, WatcherDroppedError

# (after_revision, limit) -> (compacted revision, events after it, oldest first)
FetchPage = Callable[[int, int], Awaitable[tuple[int, list[Event]]]]


class EventRing:
    """The newest `capacity` events; holds every event with revision > `floor`."""

    def __init__(self, capacity: int, floor: int) -> None:
        self._events: deque[Event] = deque()
        self.capacity = capacity
        self.floor = floor

    def append(self, ev: Event) -> None:
        if len(self._events) >= self.capacity:
            self.floor = self._events.popleft().revision
        self._events.append(ev)

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


class QueueWatcher:
    """One watch: replay (ring or log pages), then live events from a bounded buffer."""

    def __init__(self, hub: WatchHub, prefix: str, after_revision: int, max_queue: int) -> None:
        self._hub = hub
        self.prefix = prefix
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

    async def fetch_more(self, limit: int = 1000) -> None:
        """Read the next page of the log between the start revision and the hub's at registration."""
        assert self._fetch is not None
        compacted, events = await self._fetch(self._fetched, limit)
        self.compacted_seen = compacted
        if compacted > self._fetched:  # compacted under our feet: the client must relist
            self.dropped = True
            return
        for ev in events:
            if ev.revision > self._replay_upto:
                break
            if ev.key.startswith(self.prefix):
                self._replay.append(ev)
        self._fetched = events[-1].revision if events else self._replay_upto

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
        self.ring = EventRing(ring_capacity, revision)
        self.max_queue = max_queue
        self._by_prefix: dict[str, set[QueueWatcher]] = {}
        self.dropped_count = 0

    def watcher_count(self) -> int:
        return sum(len(ws) for ws in self._by_prefix.values())

    def register(self, prefix: str, after_revision: int, fetch: FetchPage) -> QueueWatcher:
        """Start a watcher; when `w.needs_log`, the caller awaits `w.fetch_more()` once to learn
        early whether the log still reaches back that far."""
        w = QueueWatcher(self, prefix, after_revision, self.max_queue)
        if self.ring.covers(after_revision):
            w._replay.extend(ev for ev in self.ring.after(after_revision) if ev.key.startswith(prefix))
        else:
            w._fetch = fetch
            w._replay_upto = self.revision
        self._by_prefix.setdefault(prefix, set()).add(w)
        return w

    def unregister(self, w: QueueWatcher) -> None:
        group = self._by_prefix.get(w.prefix)
        if group is not None:
            group.discard(w)
            if not group:
                del self._by_prefix[w.prefix]

    def publish(self, events: list[Event], allow_gap: bool = False) -> bool:
        """Append events newer than the hub's revision and fan them out. Without `allow_gap`,
        a batch that does not follow on from the hub's revision is refused (False): the caller
        catches up from the log instead, which keeps delivery in revision order."""
        fresh = [ev for ev in events if ev.revision > self.revision]
        if not fresh:
            return True
        if not allow_gap and fresh[0].revision != self.revision + 1:
            return False
        for ev in fresh:
            self.ring.append(ev)
        self.revision = fresh[-1].revision
        for prefix, group in list(self._by_prefix.items()):
            matched = fresh if not prefix else [ev for ev in fresh if ev.key.startswith(prefix)]
            if not matched:
                continue
            for w in list(group):
                if not w.push(matched):
                    self.dropped_count += 1
                    self.unregister(w)
        return True

    def close(self) -> None:
        for group in list(self._by_prefix.values()):
            for w in list(group):
                w.close_nowait()

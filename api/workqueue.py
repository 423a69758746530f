"""A de-duplicating, rate-limited work queue of keys for level-triggered control loops.

Modelled on client-go's `util/workqueue`: a key added many times before a worker takes it is
processed once (the *dirty* set); a key being processed is never handed to a second worker
(the *processing* set) — if it is added meanwhile it is re-queued when the first worker calls
`done`. Failed keys come back after an exponential back-off (`add_rate_limited`) until the
worker calls `forget`. Single event loop, no threads: every method but `get` is synchronous.
With a `priority` function, keys leave highest priority first, in the order they came among
equals (the scheduler's active queue, as kube-scheduler's PrioritySort orders it).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
import itertools
import time
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class ShutDown(Exception):
    """`get` was called on (or was waiting in) a queue that is shutting down."""


class WorkQueue(Generic[K]):
    def __init__(
        self,
        base_delay: float = 0.005,
        max_delay: float = 300.0,
        name: str | None = None,
        priority: Callable[[K], int] | None = None,
    ) -> None:
        self._queue: collections.deque[K] = collections.deque()
        self._priority = priority
        self._heap: list[tuple[int, int, K]] = []  # (-priority, arrival, key) when ordered by priority
        self._arrivals = itertools.count()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._failures: dict[K, int] = {}
        self._timers: dict[K, asyncio.TimerHandle] = {}
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._shutting_down = False
        self.base_delay = base_delay
        self.max_delay = max_delay
        # a named queue records client-go's workqueue_* metrics (api/procmetrics.py)
        self._metrics: Any = None
        self._since: dict[K, float] = {}  # key -> when it was queued, then when its work began
        if name:
            from api.procmetrics import QueueMetrics

            self._metrics = QueueMetrics(name, self.__len__)

    def __len__(self) -> int:
        return len(self._heap) if self._priority is not None else len(self._queue)

    def _push(self, key: K) -> None:
        if self._priority is None:
            self._queue.append(key)
        else:
            heapq.heappush(self._heap, (-self._priority(key), next(self._arrivals), key))

    def _pop(self) -> K:
        return self._queue.popleft() if self._priority is None else heapq.heappop(self._heap)[2]

    def add(self, key: K) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if self._metrics is not None:
            self._metrics.adds.inc()
        if key in self._processing:
            return  # re-queued by done()
        if self._metrics is not None:
            self._since[key] = time.perf_counter()
        self._push(key)
        self._wake()

    def add_after(self, key: K, delay: float) -> None:
        """Add `key` after `delay` seconds; an earlier pending timer for the key wins."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        old = self._timers.get(key)
        if old is not None:
            if old.when() <= loop.time() + delay:
                return
            old.cancel()
        self._timers[key] = loop.call_later(delay, self._fire, key)

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: K) -> None:
        """Re-add after base_delay * 2**failures (capped): the back-off for a failing key."""
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        if self._metrics is not None:
            self._metrics.retries.inc()
        self.add_after(key, min(self.base_delay * (2 ** min(n, 40)), self.max_delay))

    def num_requeues(self, key: K) -> int:
        return self._failures.get(key, 0)

    def forget(self, key: K) -> None:
        """The key succeeded: its next failure starts the back-off from the beginning."""
        self._failures.pop(key, None)

    async def get(self) -> K:
        while not len(self):
            if self._shutting_down:
                raise ShutDown()
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            finally:
                if not fut.done():
                    fut.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(fut)
        key = self._pop()
        self._dirty.discard(key)
        self._processing.add(key)
        if self._metrics is not None:
            now = time.perf_counter()
            self._metrics.queue_duration.observe(now - self._since.get(key, now))
            self._since[key] = now
        return key

    def done(self, key: K) -> None:
        self._processing.discard(key)
        if self._metrics is not None:
            now = time.perf_counter()
            self._metrics.work_duration.observe(now - self._since.pop(key, now))
            if key in self._dirty:
                self._since[key] = now
        if key in self._dirty:
            self._push(key)
            self._wake()

    def shutdown(self) -> None:
        self._shutting_down = True
        for t in self._timers.values():
            t.cancel()
        self._timers.clear()
        while self._waiters:
            w = self._waiters.popleft()
            if not w.done():
                w.set_result(None)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def _wake(self) -> None:
        while self._waiters:
            w = self._waiters.popleft()
            if not w.done():
                w.set_result(None)
                return

"""One priority level's seats and queues: fair queuing with shuffle sharding, I/O-free.

What kube-apiserver's queueset does for a Limited priority level, at kubelite's scale:

- The level runs at most `limit` requests at once (its concurrency limit, see `limits`). A request
  that finds a free seat and nobody waiting runs at once (the hot path: two integer updates).
- Otherwise, for a `Queue` level, the request's flow (its FlowSchema and distinguisher, hashed)
  is dealt a hand of `hand_size` of the level's `queues` (shuffle sharding: kube's dealer, the
  hash read as mixed-radix digits), and waits in the shortest queue of its hand, unless that
  queue already holds `queue_length_limit` requests: then it is rejected. A `Reject` level
  rejects at once.
- When a seat frees, the next request comes from the queues in turn (round robin over the
  non-empty ones), so a flow that floods its queues gets its turn and no more: kube's fair queuing
  orders queues by virtual finish time; with equal costs that is this rotation.
- A request that waited longer than `wait_limit` seconds is taken out and rejected (`expire`).

Every request counts as one seat (kube's width estimates are not made). Tickets are opaque: the
async gate passes futures and resolves the ones `done`, `expire` and `reconfigure` hand back.
Time comes from a `Clock`, so tests drive it by hand.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Protocol

EXECUTE, QUEUED, REJECT = "execute", "queued", "reject"


class Clock(Protocol):
    def now(self) -> float: ...


@dataclass
class _Waiter:
    ticket: Hashable
    arrived: float


@dataclass
class Counters:
    """What the debug dump shows of a level (kube's dump_priority_levels columns)."""

    dispatched: int = 0
    rejected: int = 0
    timed_out: int = 0


def nominal_limits(shares: dict[str, int], server_limit: int) -> dict[str, int]:
    """Each Limited level's seats: ceil(server limit * its shares / the sum of all shares), as
    kube's NominalCL (at least 1 seat: kubelite does not borrow, so a level of 0 shares would
    never run anything)."""
    total = sum(shares.values())
    if total <= 0:
        return dict.fromkeys(shares, 1)
    return {name: max(1, math.ceil(server_limit * s / total)) for name, s in shares.items()}


def deal(hash_value: int, deck: int, hand: int) -> list[int]:
    """`hand` distinct cards of `deck` from a hash (kube's shufflesharding Dealer)."""
    cards: list[int] = []
    for i in range(min(hand, deck)):
        card = hash_value % (deck - i)
        hash_value //= deck - i
        for taken in sorted(cards):  # the i-th pick indexes the cards not yet dealt
            if card >= taken:
                card += 1
        cards.append(card)
    return cards


@dataclass
class QueueSet:
    name: str
    limit: int
    queues: int = 0  # 0: a Reject level
    hand_size: int = 1
    queue_length_limit: int = 0
    wait_limit: float = 15.0
    clock: Clock | None = None
    executing: int = 0
    waiting: int = 0
    counters: Counters = field(default_factory=Counters)
    _queues: list[deque[_Waiter]] = field(default_factory=list)
    _next: int = 0  # where the round robin looks first

    def __post_init__(self) -> None:
        self._queues = [deque() for _ in range(self.queues)]

    def try_execute(self) -> bool:
        """The hot path: a free seat and nobody waiting -> run now."""
        if self.executing < self.limit and not self.waiting:
            self.executing += 1
            self.counters.dispatched += 1
            return True
        return False

    def offer(self, flow_hash: int, ticket: Hashable) -> str:
        """EXECUTE (took a seat), QUEUED (`ticket` waits for `done`/`expire`) or REJECT."""
        if self.try_execute():
            return EXECUTE
        if not self._queues:
            self.counters.rejected += 1
            return REJECT
        hand = deal(flow_hash, len(self._queues), self.hand_size)
        best = min(hand, key=lambda q: len(self._queues[q]))
        if len(self._queues[best]) >= self.queue_length_limit:
            self.counters.rejected += 1
            return REJECT
        self._queues[best].append(_Waiter(ticket, self._now()))
        self.waiting += 1
        return QUEUED

    def done(self) -> list[Hashable]:
        """A request finished: its seat goes to the waiters next in turn (their tickets)."""
        self.executing -= 1
        return self._dispatch()

    def expire(self) -> list[Hashable]:
        """Take out and return the waiters that waited `wait_limit` or longer (to be rejected)."""
        if not self.waiting:
            return []
        oldest = self._now() - self.wait_limit
        out: list[Hashable] = []
        for q in self._queues:
            while q and q[0].arrived <= oldest:
                out.append(q.popleft().ticket)
        self.waiting -= len(out)
        self.counters.timed_out += len(out)
        return out

    def cancel(self, ticket: Hashable) -> bool:
        """Take a waiter out (its client went away); False when it is not waiting any more."""
        for q in self._queues:
            for w in q:
                if w.ticket == ticket:
                    q.remove(w)
                    self.waiting -= 1
                    return True
        return False

    def reconfigure(
        self, limit: int, queues: int, hand_size: int, queue_length_limit: int
    ) -> tuple[list[Hashable], list[Hashable]]:
        """A new configuration of the level: waiters keep their order (spread over the new queues
        in turn); returns (dispatched, rejected) tickets: more seats may run some, a Reject level
        rejects whoever waited."""
        old = [w for q in self._queues for w in q]
        old.sort(key=lambda w: w.arrived)
        self.limit, self.queues = limit, queues
        self.hand_size, self.queue_length_limit = hand_size, queue_length_limit
        self._queues = [deque() for _ in range(queues)]
        self._next = 0
        rejected: list[Hashable] = []
        if queues:
            for i, w in enumerate(old):
                self._queues[i % queues].append(w)
        else:
            rejected = [w.ticket for w in old]
            self.waiting = 0
            self.counters.rejected += len(rejected)
        return self._dispatch(), rejected

    def active_queues(self) -> int:
        return sum(1 for q in self._queues if q)

    def _dispatch(self) -> list[Hashable]:
        out: list[Hashable] = []
        n = len(self._queues)
        while self.waiting and self.executing < self.limit:
            for step in range(n):
                i = (self._next + step) % n
                if self._queues[i]:
                    out.append(self._queues[i].popleft().ticket)
                    self._next = (i + 1) % n
                    break
            self.waiting -= 1
            self.executing += 1
            self.counters.dispatched += 1
        return out

    def _now(self) -> float:
        return self.clock.now() if self.clock is not None else 0.0

"""One priority level's seats and queues: fair queuing with shuffle sharding, I/O-free.

What kube-apiserver's queueset does for a Limited priority level, at kubelite's scale:

- The level occupies at most `limit` seats at once (its current concurrency limit, which the
  borrowing adjustment moves, see `borrowing`). A request takes `width` seats (kube's work
  estimate, see `width`); one that fits and finds nobody waiting runs at once (the hot path: a few
  integer updates). As kube's queueset, a request wider than the limit runs alone once nothing
  executes, so a level of 0 seats still runs one request at a time.
- Otherwise, for a `Queue` level, the request's flow (its FlowSchema and distinguisher, hashed)
  is dealt a hand of `hand_size` of the level's `queues` (shuffle sharding: kube's dealer, the
  hash read as mixed-radix digits), and waits in the shortest queue of its hand, unless that
  queue already holds `queue_length_limit` requests: then it is rejected. A `Reject` level
  rejects at once.
- When a seat frees, the next request comes from the queues in turn (round robin over the
  non-empty ones), so a flow that floods its queues gets its turn and no more: kube's fair queuing
  orders queues by virtual finish time; with equal costs that is this rotation.
- A request that waited longer than `wait_limit` seconds is taken out and rejected (`expire`).

The level integrates its seat demand (seats executing + seats waiting, kube's seatDemandIntegrator)
over time; `take_demand` hands the period's average, deviation and high watermark to the borrowing
adjustment. The exempt level is a QueueSet too (`exempt`: it never waits), so its seats count in
that demand and in the metrics as kube's do. Tickets are opaque: the async gate passes futures and
resolves the ones `done`, `expire`, `set_limit` and `reconfigure` hand back. Time comes from a
`Clock`, so tests drive it by hand.
"""

from __future__ import annotations

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
    width: int


@dataclass(frozen=True)
class Demand:
    """A period's seat demand (kube's IntegratorResults): time-weighted average and standard
    deviation, the highest value seen, and how long the period was."""

    average: float
    deviation: float
    high_watermark: float
    duration: float


@dataclass
class Counters:
    """What the debug dump shows of a level (kube's dump_priority_levels columns)."""

    dispatched: int = 0
    rejected: int = 0
    timed_out: int = 0


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
    queues: int = 0  # 0: a Reject level (or the exempt one)
    hand_size: int = 1
    queue_length_limit: int = 0
    wait_limit: float = 15.0
    clock: Clock | None = None
    exempt: bool = False  # never waits: its limit only counts (kube's exempt queueset)
    executing: int = 0  # requests
    seats: int = 0  # seats those requests hold
    waiting: int = 0
    waiting_seats: int = 0
    counters: Counters = field(default_factory=Counters)
    _queues: list[deque[_Waiter]] = field(default_factory=list)
    _next: int = 0  # where the round robin looks first
    # the seat-demand integral since `take_demand`: since when, the value now, x*dt, x*x*dt, max
    _since: float = 0.0
    _at: float = 0.0
    _x: int = 0
    _s1: float = 0.0
    _s2: float = 0.0
    _max: int = 0

    def __post_init__(self) -> None:
        self._queues = [deque() for _ in range(self.queues)]
        self._since = self._at = self._now()

    def fits(self, width: int) -> bool:
        """kube's canAccommodateSeats: the seats are free, or nothing executes (a request wider
        than the whole limit runs alone rather than never)."""
        return self.exempt or self.seats + width <= self.limit or not self.executing

    def try_execute(self, width: int = 1) -> bool:
        """The hot path: the seats are free and nobody waits -> run now (`fits`, inlined)."""
        seats = self.seats + width
        if self.waiting or (seats > self.limit and self.executing and not self.exempt):
            return False
        self.executing += 1
        self.seats = seats
        self.counters.dispatched += 1
        self._demand()
        return True

    def offer(self, flow_hash: int, ticket: Hashable, width: int = 1) -> str:
        """EXECUTE (took its seats), QUEUED (`ticket` waits for `done`/`expire`) or REJECT."""
        if self.try_execute(width):
            return EXECUTE
        if not self._queues:
            self.counters.rejected += 1
            return REJECT
        hand = deal(flow_hash, len(self._queues), self.hand_size)
        best = min(hand, key=lambda q: len(self._queues[q]))
        if len(self._queues[best]) >= self.queue_length_limit:
            self.counters.rejected += 1
            return REJECT
        self._queues[best].append(_Waiter(ticket, self._now(), width))
        self.waiting += 1
        self.waiting_seats += width
        self._demand()
        return QUEUED

    def done(self, width: int = 1) -> list[Hashable]:
        """A request finished: its seats go to the waiters next in turn (their tickets)."""
        self.executing -= 1
        self.seats -= width
        out = self._dispatch() if self.waiting else []
        self._demand()
        return out

    def expire(self) -> list[Hashable]:
        """Take out and return the waiters that waited `wait_limit` or longer (to be rejected)."""
        if not self.waiting:
            return []
        oldest = self._now() - self.wait_limit
        out: list[Hashable] = []
        for q in self._queues:
            while q and q[0].arrived <= oldest:
                w = q.popleft()
                self.waiting_seats -= w.width
                out.append(w.ticket)
        self.waiting -= len(out)
        self.counters.timed_out += len(out)
        self._demand()
        return out

    def cancel(self, ticket: Hashable) -> bool:
        """Take a waiter out (its client went away); False when it is not waiting any more."""
        for q in self._queues:
            for w in q:
                if w.ticket == ticket:
                    q.remove(w)
                    self.waiting -= 1
                    self.waiting_seats -= w.width
                    self._demand()
                    return True
        return False

    def set_limit(self, limit: int) -> list[Hashable]:
        """The borrowing adjustment's new limit; returns the waiters that now fit (dispatched)."""
        self.limit = limit
        return self._dispatch()

    def reconfigure(
        self, queues: int, hand_size: int, queue_length_limit: int
    ) -> tuple[list[Hashable], list[Hashable]]:
        """A new configuration of the level: waiters keep their order (spread over the new queues
        in turn); returns (dispatched, rejected) tickets: a Reject level rejects whoever waited."""
        old = [w for q in self._queues for w in q]
        old.sort(key=lambda w: w.arrived)
        self.queues, self.hand_size, self.queue_length_limit = queues, hand_size, queue_length_limit
        self._queues = [deque() for _ in range(queues)]
        self._next = 0
        rejected: list[Hashable] = []
        if queues:
            for i, w in enumerate(old):
                self._queues[i % queues].append(w)
        else:
            rejected = [w.ticket for w in old]
            self.waiting = self.waiting_seats = 0
            self.counters.rejected += len(rejected)
        out = self._dispatch()
        self._demand()
        return out, rejected

    def active_queues(self) -> int:
        return sum(1 for q in self._queues if q)

    def take_demand(self) -> Demand:
        """The seat demand since the last call (kube's Integrator.Reset), and a new period begun."""
        self._demand()
        duration = self._at - self._since
        x = self._x
        if duration <= 0:
            result = Demand(float(x), 0.0, float(max(self._max, x)), 0.0)
        else:
            avg = self._s1 / duration
            variance = max(0.0, self._s2 / duration - avg * avg)
            result = Demand(avg, variance**0.5, float(self._max), duration)
        self._since, self._s1, self._s2, self._max = self._at, 0.0, 0.0, x
        return result

    def _demand(self) -> None:
        """The demand changed (or is read): the old value integrated up to now, the new one kept."""
        now = self.clock.now() if self.clock is not None else 0.0  # `_now`, inlined: the hot path
        dt = now - self._at
        x = self._x
        if dt > 0 and x:
            self._s1 += x * dt
            self._s2 += x * x * dt
        self._at = now
        x = self._x = self.seats + self.waiting_seats
        if x > self._max:
            self._max = x

    def _dispatch(self) -> list[Hashable]:
        """Waiters in turn while the next one fits (as kube, a wide head waits: nobody skips it)."""
        out: list[Hashable] = []
        n = len(self._queues)
        while self.waiting:
            for step in range(n):
                i = (self._next + step) % n
                if self._queues[i]:
                    break
            head = self._queues[i][0]
            if not self.fits(head.width):
                break
            self._queues[i].popleft()
            self._next = (i + 1) % n
            out.append(head.ticket)
            self.waiting -= 1
            self.waiting_seats -= head.width
            self.executing += 1
            self.seats += head.width
            self.counters.dispatched += 1
        return out

    def _now(self) -> float:
        return self.clock.now() if self.clock is not None else 0.0

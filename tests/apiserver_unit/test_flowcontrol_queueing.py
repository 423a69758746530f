"""A priority level's seats and queues, pure, on a hand-driven clock: the fast path, fairness
between two flows, the queue length limit, the wait limit, Reject levels, reconfiguration, a new
limit, wide requests, the seat-demand integral, and shuffle sharding's hands."""

from __future__ import annotations

from apiserver.flowcontrol.queueing import EXECUTE, QUEUED, REJECT, QueueSet, deal


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def now(self) -> float:
        return self.t


def test_deal_gives_distinct_cards_in_the_deck() -> None:
    for h in (0, 1, 12345, 2**63 - 1):
        hand = deal(h, 64, 6)
        assert len(set(hand)) == 6 and all(0 <= c < 64 for c in hand)
    assert deal(7, 1, 1) == [0]


def test_fast_path_then_queue_then_reject_at_the_length_limit() -> None:
    qs = QueueSet("tiny", limit=1, queues=1, hand_size=1, queue_length_limit=1, clock=FakeClock())
    assert qs.offer(1, "a") == EXECUTE
    assert qs.offer(1, "b") == QUEUED
    assert qs.offer(2, "c") == REJECT
    assert (qs.executing, qs.waiting, qs.counters.rejected) == (1, 1, 1)
    assert qs.done() == ["b"]
    assert (qs.executing, qs.waiting) == (1, 0)
    assert qs.done() == [] and qs.executing == 0
    assert qs.try_execute()


def test_fairness_between_two_flows() -> None:
    """A flow that queued 10 requests first does not starve one that queued 2 after it."""
    qs = QueueSet("fair", limit=1, queues=8, hand_size=1, queue_length_limit=50, clock=FakeClock())
    heavy, light = 0, 1  # hands of one queue each: queue 0 and queue 1
    assert qs.offer(heavy, "h-run") == EXECUTE
    for i in range(10):
        assert qs.offer(heavy, f"h{i}") == QUEUED
    assert qs.offer(light, "l0") == QUEUED and qs.offer(light, "l1") == QUEUED
    order = []
    for _ in range(12):
        order += qs.done()
    assert order[:4] in (["h0", "l0", "h1", "l1"], ["l0", "h0", "l1", "h1"])
    assert order[4:] == [f"h{i}" for i in range(2, 10)]


def test_shortest_queue_of_the_hand() -> None:
    qs = QueueSet("hand", limit=1, queues=4, hand_size=4, queue_length_limit=1, clock=FakeClock())
    assert qs.offer(5, "run") == EXECUTE
    assert [qs.offer(5, f"w{i}") for i in range(4)] == [QUEUED] * 4  # one flow spreads over its hand
    assert qs.active_queues() == 4
    assert qs.offer(5, "w4") == REJECT


def test_wait_limit_expires_the_oldest() -> None:
    clock = FakeClock()
    qs = QueueSet("slow", limit=1, queues=2, hand_size=1, queue_length_limit=10, wait_limit=15, clock=clock)
    qs.offer(0, "run")
    qs.offer(0, "old")
    clock.t += 10
    qs.offer(0, "new")
    clock.t += 5
    assert qs.expire() == ["old"]
    assert qs.counters.timed_out == 1 and qs.waiting == 1
    assert qs.cancel("new") and not qs.cancel("new") and qs.waiting == 0


def test_reject_level_and_reconfiguration() -> None:
    qs = QueueSet("rej", limit=2, clock=FakeClock())  # no queues: Reject
    assert [qs.offer(0, x) for x in "abc"] == [EXECUTE, EXECUTE, REJECT]
    queued = QueueSet("q", limit=1, queues=2, hand_size=1, queue_length_limit=5, clock=FakeClock())
    queued.offer(0, "run")
    queued.offer(0, "w1")
    queued.offer(1, "w2")
    assert queued.set_limit(2) == ["w1"]  # one more seat: the oldest waiter runs
    assert queued.reconfigure(2, 1, 5) == ([], [])  # waiters kept
    dispatched, rejected = queued.reconfigure(0, 1, 0)  # now Reject: who waits is rejected
    assert (dispatched, rejected) == ([], ["w2"])


def test_wide_requests_take_their_seats_and_run_alone_when_wider_than_the_limit() -> None:
    qs = QueueSet("wide", limit=4, queues=2, hand_size=1, queue_length_limit=5, clock=FakeClock())
    assert qs.offer(0, "three", width=3) == EXECUTE and qs.seats == 3
    assert qs.offer(1, "two", width=2) == QUEUED  # 3 + 2 > 4
    assert not qs.try_execute(1)  # somebody waits: nobody jumps the queue
    assert qs.done(3) == ["two"] and qs.seats == 2
    assert qs.offer(0, "ten", width=10) == QUEUED  # wider than the limit: waits until nothing runs
    assert qs.done(2) == ["ten"] and (qs.seats, qs.executing) == (10, 1)
    zero = QueueSet("zero", limit=0, queues=1, hand_size=1, queue_length_limit=5, clock=FakeClock())
    assert zero.offer(0, "a") == EXECUTE and zero.offer(0, "b") == QUEUED  # 0 seats: one at a time


def test_seat_demand_is_integrated_over_time() -> None:
    clock = FakeClock()
    qs = QueueSet("d", limit=2, queues=1, hand_size=1, queue_length_limit=5, clock=clock)
    qs.take_demand()
    qs.offer(0, "a", width=2)  # demand 2 for 10 s
    clock.t += 10
    qs.offer(0, "b", width=2)  # demand 4 (2 executing + 2 waiting) for 10 s
    clock.t += 10
    d = qs.take_demand()
    assert (d.average, d.deviation, d.high_watermark, d.duration) == (3.0, 1.0, 4.0, 20.0)
    clock.t += 5
    assert qs.take_demand().high_watermark == 4.0  # the new period starts at the current value

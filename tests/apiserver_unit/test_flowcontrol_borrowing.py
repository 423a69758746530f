"""Seats lent and borrowed between priority levels, pure: the bounds kube derives from shares and
percents, the demand smoothing, the fair allocation, and whole adjustments run period after period
on made-up demand: nobody lends at 0%, a busy level borrows up to its BorrowingCL from idle lenders
(the exempt level among them), a lender gets its seats back as soon as it needs them, limits go
back to nominal once demand falls, and the limits never add up to more than the nominal seats."""

from __future__ import annotations

import random

import pytest

from apiserver.flowcontrol.borrowing import (
    SMOOTHING,
    Bounds,
    DemandStats,
    Spec,
    bounds,
    current_limits,
    fair_allocation,
)
from apiserver.flowcontrol.queueing import Demand


def _run(
    specs: dict[str, Spec],
    server: int,
    demand: dict[str, float],
    periods: int = 1,
    stats: dict[str, DemandStats] | None = None,
) -> tuple[dict[str, int], dict[str, DemandStats]]:
    """`periods` adjustments with each level's seat demand steady at `demand` (0 when absent)."""
    b = bounds(specs, server)
    stats = dict(stats or dict.fromkeys(specs, DemandStats()))
    limits: dict[str, int] = {}
    for _ in range(periods):
        for name in specs:
            x = demand.get(name, 0.0)
            stats[name] = stats[name].update(Demand(x, 0.0, x, 10.0))
        limits = current_limits({n: (b[n], stats[n]) for n in specs}, sum(v.nominal for v in b.values()))
    return limits, stats


def test_bounds_as_kube_computes_them() -> None:
    b = bounds(
        {
            "exempt": Spec(0, 0),
            "catch-all": Spec(5),
            "workload-low": Spec(100, 90),
            "global-default": Spec(20, 50),
            "leader-election": Spec(10, 0),
            "system": Spec(30, 33),
            "node-high": Spec(40, 25),
            "workload-high": Spec(40, 50, 25),
        },
        600,
    )
    assert b["workload-low"] == Bounds(245, 24, 845)  # ceil(600*100/245); lends round(220.5) = 221
    assert b["global-default"] == Bounds(49, 24, 649)  # lends round(24.5) = 25: halves away from 0
    assert b["leader-election"] == Bounds(25, 25, 625)
    assert b["workload-high"] == Bounds(98, 49, 123)  # borrows round(24.5) = 25 at most
    assert b["exempt"] == Bounds(0, 0, 600)  # no shares: nothing to lend, borrows without limit


def test_smoothing_follows_demand_up_at_once_and_decays_slowly() -> None:
    s = DemandStats().update(Demand(8.0, 2.0, 12.0, 10.0))
    assert (s.average, s.deviation, s.high_watermark, s.smoothed) == (8.0, 2.0, 12.0, 10.0)
    s = s.update(Demand(0.0, 0.0, 0.0, 10.0))
    assert s.smoothed == SMOOTHING * 10.0 and s.high_watermark == 0.0
    assert s.update(Demand(0.0, 0.0, 3.0, 0.0)).smoothed == s.smoothed  # an empty period: only the max


def test_fair_allocation_gives_one_proportion_of_targets_within_bounds() -> None:
    assert fair_allocation(20, [(5, 10, 5), (10, 15, 10)]) == pytest.approx([20 / 3, 40 / 3])
    shares = fair_allocation(30, [(0, 5, 10), (0, 100, 10), (2, 100, 1)])
    assert shares[0] == 5 and abs(sum(shares) - 30) < 1e-9 and abs(shares[1] - 10 * shares[2]) < 1e-9
    assert fair_allocation(10, [(4, 4, 9), (6, 6, 1)]) == [4, 6]  # no room either way


def test_nobody_lends_at_zero_percent() -> None:
    specs = {"busy": Spec(10, 0, None), "idle": Spec(10, 0), "other": Spec(20, 0)}
    limits, _ = _run(specs, 40, {"busy": 500.0}, periods=5)
    assert limits == {"busy": 10, "idle": 10, "other": 20}


def test_a_busy_level_borrows_up_to_its_limit_from_idle_lenders() -> None:
    specs = {
        "exempt": Spec(10, 100),  # the exempt level lends too: all of its 10 seats
        "lender": Spec(20, 50, 0),  # lends 10 seats, borrows none
        "busy": Spec(10, 0, 50),  # borrows 5 seats at most
    }
    limits, _ = _run(specs, 40, {"busy": 100.0})
    assert limits == {"exempt": 5, "lender": 20, "busy": 15}  # 5 of the lent seats borrowed
    greedy = {**specs, "greedy": Spec(10, 0, None)}  # borrows whatever is lent
    limits, _ = _run(greedy, 50, {"busy": 100.0, "greedy": 100.0})
    assert limits == {"exempt": 0, "lender": 10, "busy": 15, "greedy": 25}


def test_a_lender_takes_its_seats_back_and_limits_return_to_nominal() -> None:
    specs = {"lender": Spec(10, 50, 100), "borrower": Spec(10, 50, 100)}
    limits, stats = _run(specs, 20, {"borrower": 20.0}, periods=3)
    assert limits == {"lender": 5, "borrower": 15}
    back, _ = _run(specs, 20, {"borrower": 20.0, "lender": 10.0}, stats=stats)
    assert back["lender"] == 10  # it used its nominal seats in the period: it has them at once
    seen = []
    for _ in range(100):  # demand gone: the borrowed seats come back as the smoothed demand decays
        limits, stats = _run(specs, 20, {}, stats=stats)
        seen.append(limits["borrower"])
    assert seen == sorted(seen, reverse=True) and seen[0] > 10
    assert limits == {"lender": 10, "borrower": 10}


def test_limits_stay_within_bounds_and_never_add_up_to_more_than_the_nominal_seats() -> None:
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(1, 8)
        specs = {
            f"l{i}": Spec(rng.randint(0, 100), rng.choice([0, 25, 50, 100]), rng.choice([None, 0, 10, 100]))
            for i in range(n)
        }
        server = rng.randint(1, 700)
        demand = {name: rng.choice([0.0, rng.uniform(0, 2 * server)]) for name in specs}
        limits, _ = _run(specs, server, demand, periods=rng.randint(1, 3))
        b = bounds(specs, server)
        total = sum(x.nominal for x in b.values())
        assert sum(limits.values()) == total
        assert total <= server + n  # kube's NominalCLs are ceilings of the shares
        for name, limit in limits.items():
            assert b[name].lower <= limit <= b[name].upper, (specs, server, demand, limits)

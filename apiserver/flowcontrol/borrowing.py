"""Seats lent and borrowed between priority levels: kube-apiserver's concurrency-limit adjustment
(KEP-1040 "borrowing"), as pure functions.

What kube's configController does with `lendablePercent` and `borrowingLimitPercent`:

- Each level (the exempt one included, with its `spec.exempt` shares and lendablePercent) has a
  NominalCL = ceil(server limit * its shares / all levels' shares), a LendableCL =
  round(NominalCL * lendablePercent / 100) and a BorrowingCL = round(NominalCL *
  borrowingLimitPercent / 100), or the whole server limit when borrowingLimitPercent is unset (always
  so for the exempt level). Its current limit stays within [minCL, maxCL] = [NominalCL - LendableCL,
  NominalCL + BorrowingCL].
- Every adjustment period (kube: 10 s, and at every configuration change) each level's seat demand
  (seats executing + seats waiting, integrated over the period) gives an average, a standard
  deviation and a high watermark; the smoothed demand follows avg + stddev upward at once and decays
  with coefficient 0.977 per period (a half-life of about 5 minutes).
- The sum of the NominalCLs is shared out (`fair_allocation`): each level gets the same proportion
  of its target (its smoothed demand, at least its lower bound), clipped to [lower bound, maxCL],
  where the lower bound is max(minCL, min(NominalCL, high watermark)): a level that used its nominal
  seats in the last period gets them back at once, whatever it lent.

kube rounds each level's share on its own, so its limits can add up to a seat or two more than the
total; `current_limits` rounds by largest remainder instead, so they add up to exactly the total and
never pass it (each limit is still the floor or the ceiling of kube's figure).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from api.gomath import go_round
from apiserver.flowcontrol.queueing import Demand

SMOOTHING = 0.977  # kube's seatDemandSmoothingCoefficient
PERIOD = 10.0  # kube's borrowingAdjustmentPeriod, seconds
MIN_TARGET = 0.001  # a target of 0 would take no share at all (kube's MinTarget)


@dataclass(frozen=True)
class Bounds:
    nominal: int
    lower: int  # NominalCL - LendableCL
    upper: int  # NominalCL + BorrowingCL


@dataclass(frozen=True)
class Spec:
    """What a PriorityLevelConfiguration says about seats (`borrowing` None: unlimited)."""

    shares: int
    lendable: int = 0
    borrowing: int | None = None


def bounds(specs: dict[str, Spec], server_limit: int) -> dict[str, Bounds]:
    """Each level's nominal seats and the range its current limit moves in."""
    total = sum(s.shares for s in specs.values())
    out = {}
    for name, s in specs.items():
        nominal = math.ceil(server_limit * s.shares / total) if total > 0 else 0
        lendable = go_round(nominal * s.lendable / 100)
        borrowing = server_limit if s.borrowing is None else go_round(nominal * s.borrowing / 100)
        out[name] = Bounds(nominal, nominal - lendable, nominal + borrowing)
    return out


@dataclass(frozen=True)
class DemandStats:
    average: float = 0.0
    deviation: float = 0.0
    high_watermark: float = 0.0
    smoothed: float = 0.0

    def update(self, d: Demand) -> DemandStats:
        """The stats after another period's demand (kube's seatDemandStats.update)."""
        if d.duration <= 0:
            return DemandStats(self.average, self.deviation, d.high_watermark, self.smoothed)
        envelope = d.average + d.deviation
        smoothed = max(envelope, SMOOTHING * self.smoothed + (1 - SMOOTHING) * envelope)
        return DemandStats(d.average, d.deviation, d.high_watermark, smoothed)


def fair_allocation(total: float, items: list[tuple[float, float, float]]) -> list[float]:
    """Shares of `total` for (lower, upper, target) items: the one proportion p for which
    clip(p * target, lower, upper) adds up to `total` (bounds that cannot reach it win)."""
    if not items:
        return []
    targets = [max(t, MIN_TARGET) for _, _, t in items]

    def at(p: float) -> list[float]:
        return [min(hi, max(lo, p * t)) for (lo, hi, _), t in zip(items, targets, strict=True)]

    if sum(lo for lo, _, _ in items) >= total:
        return [lo for lo, _, _ in items]
    if sum(hi for _, hi, _ in items) <= total:
        return [hi for _, hi, _ in items]
    # the sum is continuous, rising and piecewise linear in p, bending where an item meets a
    # bound: find the bend where it first reaches `total` and interpolate from the one before
    before, f_before = 0.0, sum(at(0.0))
    for p in sorted({b / t for (lo, hi, _), t in zip(items, targets, strict=True) for b in (lo, hi)}):
        f = sum(at(p))
        if f >= total:
            return at(before + (total - f_before) * (p - before) / (f - f_before))
        before, f_before = p, f
    return at(before)  # not reached: the upper bounds add up to more than `total`


def current_limits(levels: dict[str, tuple[Bounds, DemandStats]], total: int) -> dict[str, int]:
    """Each level's current limit from its bounds and demand, adding up to `total` (the sum of the
    nominal limits)."""
    names = sorted(levels)
    items = []
    for name in names:
        b, stats = levels[name]
        lower = max(b.lower, min(b.nominal, stats.high_watermark))
        items.append((lower, float(b.upper), max(lower, stats.smoothed)))
    shares = fair_allocation(float(total), items)
    floors = [math.floor(s + 1e-9) for s in shares]
    left = total - sum(floors)
    by_remainder = sorted(range(len(names)), key=lambda i: floors[i] - shares[i])
    for i in by_remainder[: max(0, left)]:
        floors[i] += 1
    return dict(zip(names, floors, strict=True))

"""The controllers' clock: a seam so tests can move time instead of waiting for it.

CronJob schedules, Job back-off and deadlines, TTL-after-finished and minReadySeconds are all
"is it time yet?" questions. Controllers ask a `Clock` for the wall time (aware, UTC) instead
of calling `datetime.now`, so a test hands in a `FakeClock` and `advance`s it, and the real
cluster can run a clock that starts at a chosen instant (`OffsetClock`, for demos and e2e).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class RealClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class OffsetClock:
    """The real clock shifted by a fixed offset (time still passes at the normal rate)."""

    def __init__(self, offset: dt.timedelta) -> None:
        self.offset = offset

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


class FakeClock:
    """A clock that moves only when told to; the time it reports is the time it was set to."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, seconds: float) -> dt.datetime:
        self._now += dt.timedelta(seconds=seconds)
        return self._now

    def set(self, t: dt.datetime) -> None:
        self._now = t

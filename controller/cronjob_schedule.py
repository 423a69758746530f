"""Cron schedules as CronJob `spec.schedule` reads them: parse once, then ask next/previous run.

The grammar is the one kube-controller-manager accepts (robfig/cron's standard parser): five
fields `minute hour day-of-month month day-of-week`, each `*`, `?` (day fields), a number, a
range `a-b`, a step `*/n`, `a-b/n` or `a/n` (a to the field's max), comma lists, month names
JAN-DEC and weekday names SUN-SAT (case-insensitive), and the descriptors @yearly @annually
@monthly @weekly @daily @midnight @hourly and `@every <duration>`. A `TZ=`/`CRON_TZ=` prefix
is refused: `spec.timeZone` is the way to name a zone. When both day fields are restricted a
day matches either (Vixie cron); when one is `*` or `?` both must match.

Times are computed in the schedule's zone on wall clocks (zoneinfo): a wall time that a DST
jump skips does not run that day, and a wall time that happens twice (fall back) runs at both
instants, as robfig/cron does.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

UTC = dt.UTC
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# (low, high, names) per field
_FIELDS = ((0, 59, None), (0, 23, None), (1, 31, None), (1, 12, _MONTHS), (0, 6, _DAYS))
_EVERY = re.compile(r"(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
SEARCH_YEARS = 5
_MARGIN = dt.timedelta(hours=2)  # robfig gives up after five years: such a schedule never runs


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class CronSchedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    day_star: bool  # day-of-month or day-of-week was `*`/`?`: both must match
    zone: dt.tzinfo = UTC

    def _day_matches(self, d: dt.date) -> bool:
        if d.month not in self.months:
            return False
        dom, dow = d.day in self.days, (d.isoweekday() % 7) in self.weekdays
        return (dom and dow) if self.day_star else (dom or dow)

    def _instants(self, d: dt.date, near: dt.datetime, reverse: bool = False) -> Iterator[dt.datetime]:
        """The UTC instants of this day's matching wall times, in order (0, 1 or 2 per wall time).

        Wall times more than two hours before `near` (a naive local time; after it, in reverse)
        are skipped without a zone conversion: a DST shift moves wall times by less, and callers
        compare instants anyway.
        """
        for h in sorted(self.hours, reverse=reverse):
            hour = dt.datetime(d.year, d.month, d.day, h)
            if (hour > near + _MARGIN) if reverse else (hour + dt.timedelta(minutes=59) < near - _MARGIN):
                continue
            for m in sorted(self.minutes, reverse=reverse):
                naive = hour.replace(minute=m)
                if (naive > near + _MARGIN) if reverse else (naive < near - _MARGIN):
                    continue
                wall = naive.replace(tzinfo=self.zone)
                u0, u1 = wall.replace(fold=0).astimezone(UTC), wall.replace(fold=1).astimezone(UTC)
                if u0.astimezone(self.zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
                    continue  # skipped by a DST jump
                yield from ([u0] if u0 == u1 else sorted({u0, u1}, reverse=reverse))

    def next(self, after: dt.datetime) -> dt.datetime | None:
        """The first run strictly after `after`, or None within five years."""
        local = after.astimezone(self.zone).replace(tzinfo=None)
        day = local.date() - dt.timedelta(days=1)  # fall back may reach a day behind
        end = day + dt.timedelta(days=366 * SEARCH_YEARS)
        while day <= end:
            if self._day_matches(day):
                for t in self._instants(day, local):
                    if t > after:
                        return t
            day += dt.timedelta(days=1)
        return None

    def prev(self, at_or_before: dt.datetime) -> dt.datetime | None:
        """The last run at or before the given instant, or None within five years."""
        local = at_or_before.astimezone(self.zone).replace(tzinfo=None)
        day = local.date() + dt.timedelta(days=1)
        end = day - dt.timedelta(days=366 * SEARCH_YEARS)
        while day >= end:
            if self._day_matches(day):
                for t in self._instants(day, local, reverse=True):
                    if t <= at_or_before:
                        return t
            day -= dt.timedelta(days=1)
        return None


@dataclass(frozen=True)
class EverySchedule:
    """`@every 1h30m`: a constant delay, whole seconds (at least one), from the previous run."""

    seconds: int
    zone: dt.tzinfo = UTC

    def next(self, after: dt.datetime) -> dt.datetime | None:
        base = after.replace(microsecond=0)
        return base + dt.timedelta(seconds=self.seconds)

    def prev(self, at_or_before: dt.datetime) -> dt.datetime | None:
        return None  # anchored on the previous run, not on the clock: callers walk forward


Schedule = CronSchedule | EverySchedule


def _field(text: str, low: int, high: int, names: dict[str, int] | None) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        rng, _, step_s = part.partition("/")
        step = 1
        if step_s:
            if not step_s.isdigit() or int(step_s) == 0:
                raise ScheduleError(f"invalid step {step_s!r} in {text!r}")
            step = int(step_s)
        if rng in ("*", "?"):
            a, b = low, high
        else:
            lo_s, dash, hi_s = rng.partition("-")
            a = _number(lo_s, names, text)
            b = _number(hi_s, names, text) if dash else (high if step_s else a)
        if a < low or b > high or a > b:
            raise ScheduleError(f"value out of range ({low}-{high}) in {text!r}")
        values.update(range(a, b + 1, step))
    return frozenset(values)


def _number(s: str, names: dict[str, int] | None, whole: str) -> int:
    if names and s.lower() in names:
        return names[s.lower()]
    if not s.isdigit():
        raise ScheduleError(f"failed to parse {s!r} in {whole!r}")
    return int(s)


def _every(text: str) -> int:
    pos, total = 0, 0.0
    for m in _EVERY.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if not text or pos != len(text):
        raise ScheduleError(f"failed to parse duration @every {text}")
    return max(1, int(total))


def parse(schedule: str, time_zone: str | None = None) -> Schedule:
    """Parse `spec.schedule` in `spec.timeZone` (None: UTC, the controller's zone); ScheduleError on bad input."""
    text = schedule.strip()
    if text.startswith(("TZ=", "CRON_TZ=")):
        raise ScheduleError("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
    try:
        zone: dt.tzinfo = zoneinfo.ZoneInfo(time_zone) if time_zone else UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        raise ScheduleError(f"unknown time zone {time_zone}") from e
    if text.startswith("@every "):
        return EverySchedule(_every(text[len("@every ") :].strip()), zone)
    if text.startswith("@"):
        if text not in _DESCRIPTORS:
            raise ScheduleError(f"unrecognized descriptor: {text}")
        text = _DESCRIPTORS[text]
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: {schedule}")
    sets = [_field(f, lo, hi, names) for f, (lo, hi, names) in zip(fields, _FIELDS, strict=True)]
    # robfig marks a field "star" only for a bare `*`/`?` (a step clears it)
    day_star = fields[2] in ("*", "?", "*/1", "?/1") or fields[4] in ("*", "?", "*/1", "?/1")
    return CronSchedule(sets[0], sets[1], sets[2], sets[3], sets[4], day_star=day_star, zone=zone)


def most_recent(
    schedule: Schedule, earliest: dt.datetime, now: dt.datetime
) -> tuple[dt.datetime | None, int]:
    """(the latest run in (earliest, now], about how many runs fell in that window).

    The count is kube's estimate (window / the gap between the first two runs): exact for evenly
    spaced schedules, and only compared with 100 to warn about a stopped controller or clock skew.
    """
    first = schedule.next(earliest)
    if first is None or first > now:
        return None, 0
    second = schedule.next(first)
    if second is None or second > now:
        return first, 1
    gap = max(1.0, (second - first).total_seconds())
    missed = int((now - first).total_seconds() // gap) + 1
    if isinstance(schedule, EverySchedule):
        return first + dt.timedelta(seconds=(missed - 1) * schedule.seconds), missed
    latest = schedule.prev(now)
    return (latest if latest is not None and latest >= first else first), missed

"""Cron parsing and next/previous runs (pure), including DST in named time zones."""

from __future__ import annotations

import datetime as dt

import pytest

from controller import cronjob_decisions as cd
from controller.cronjob_schedule import CronSchedule, ScheduleError, most_recent, parse

UTC = dt.UTC


def t(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def runs(schedule: str, start: dt.datetime, n: int, tz: str | None = None) -> list[str]:
    s = parse(schedule, tz)
    out: list[str] = []
    cur: dt.datetime | None = start
    for _ in range(n):
        assert cur is not None
        cur = s.next(cur)
        assert cur is not None
        out.append(cur.strftime("%Y-%m-%d %H:%M"))
    return out


def test_fields_ranges_steps_lists_and_names() -> None:
    s = parse("*/15 9-17/4 1,15 JAN-mar mon")
    assert isinstance(s, CronSchedule)
    assert s.minutes == {0, 15, 30, 45} and s.hours == {9, 13, 17}
    assert s.days == {1, 15} and s.months == {1, 2, 3} and s.weekdays == {1}
    assert parse("5/20 * * * *").minutes == {5, 25, 45}  # type: ignore[union-attr]
    assert parse("0 0 * * SUN,sat").weekdays == {0, 6}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "bad",
    [
        "* * * *",
        "* * * * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * * 13 *",
        "* * * * 7",
        "*/0 * * * *",
        "5-1 * * * *",
        "a * * * *",
        "@fortnightly",
        "TZ=UTC * * * * *",
        "CRON_TZ=Asia/Tokyo 0 9 * * *",
        "@every 1x",
        "",
    ],
)
def test_refused(bad: str) -> None:
    with pytest.raises(ScheduleError):
        parse(bad)


def test_unknown_time_zone() -> None:
    with pytest.raises(ScheduleError, match="unknown time zone"):
        parse("* * * * *", "Mars/Olympus")


def test_descriptors() -> None:
    assert runs("@hourly", t(2026, 1, 1, 10, 30), 2) == ["2026-01-01 11:00", "2026-01-01 12:00"]
    assert runs("@daily", t(2026, 1, 1, 10), 1) == ["2026-01-02 00:00"]
    assert runs("@midnight", t(2026, 1, 1, 10), 1) == ["2026-01-02 00:00"]
    assert runs("@weekly", t(2026, 1, 1), 1) == ["2026-01-04 00:00"]  # a Sunday
    assert runs("@monthly", t(2026, 1, 15), 1) == ["2026-02-01 00:00"]
    assert runs("@yearly", t(2026, 1, 15), 1) == runs("@annually", t(2026, 1, 15), 1) == ["2027-01-01 00:00"]
    assert runs("@every 90s", t(2026, 1, 1, 0, 0, 10), 2) == ["2026-01-01 00:01", "2026-01-01 00:03"]


def test_next_is_strictly_after_and_prev_at_or_before() -> None:
    s = parse("*/5 * * * *")
    assert s.next(t(2026, 1, 1, 0, 5)) == t(2026, 1, 1, 0, 10)
    assert s.prev(t(2026, 1, 1, 0, 5)) == t(2026, 1, 1, 0, 5)
    assert s.prev(t(2026, 1, 1, 0, 4, 59)) == t(2026, 1, 1, 0, 0)


def test_day_of_month_or_day_of_week() -> None:
    # both restricted: either matches (the 13th, or any Friday); one is `*`: both must match
    assert runs("0 0 13 * 5", t(2026, 2, 1), 3) == [
        "2026-02-06 00:00",
        "2026-02-13 00:00",
        "2026-02-20 00:00",
    ]
    assert runs("0 0 * * 5", t(2026, 2, 1), 1) == ["2026-02-06 00:00"]
    assert runs("0 0 */10 * 5", t(2026, 2, 1), 2) == ["2026-02-06 00:00", "2026-02-11 00:00"]


def test_leap_day_and_never() -> None:
    assert parse("0 0 29 2 *").next(t(2026, 3, 1)) == t(2028, 2, 29)
    assert parse("0 0 30 2 *").next(t(2026, 3, 1)) is None


def test_time_zone_and_dst() -> None:
    # 9:00 in New York: 14:00 UTC in winter, 13:00 UTC after the March jump
    assert runs("0 9 * * *", t(2026, 3, 6, 15), 3, "America/New_York") == [
        "2026-03-07 14:00",
        "2026-03-08 13:00",
        "2026-03-09 13:00",
    ]
    # 2:30 does not exist on 8 March 2026 in New York: that day has no run
    assert runs("30 2 * * *", t(2026, 3, 7, 12), 2, "America/New_York") == [
        "2026-03-09 06:30",
        "2026-03-10 06:30",
    ]
    # 1:30 happens twice on 1 November 2026: both instants run (as robfig/cron)
    assert runs("30 1 * * *", t(2026, 11, 1), 3, "America/New_York") == [
        "2026-11-01 05:30",
        "2026-11-01 06:30",
        "2026-11-02 06:30",
    ]
    # Europe/London's hourly schedule across the October change: the repeated hour runs twice
    assert runs("0 * * * *", t(2026, 10, 24, 23, 30), 3, "Europe/London") == [
        "2026-10-25 00:00",
        "2026-10-25 01:00",
        "2026-10-25 02:00",
    ]
    assert parse("0 9 * * *", "Asia/Tokyo").prev(t(2026, 1, 2, 0, 30)) == t(2026, 1, 2, 0, 0)


def test_most_recent_and_missed() -> None:
    s = parse("*/1 * * * *")
    assert most_recent(s, t(2026, 1, 1, 0, 0, 30), t(2026, 1, 1, 0, 0, 50)) == (None, 0)
    assert most_recent(s, t(2026, 1, 1, 0, 0, 30), t(2026, 1, 1, 0, 1, 5)) == (t(2026, 1, 1, 0, 1), 1)
    assert most_recent(s, t(2026, 1, 1), t(2026, 1, 1, 3, 0, 30)) == (t(2026, 1, 1, 3), 180)
    every = parse("@every 1h")
    assert most_recent(every, t(2026, 1, 1), t(2026, 1, 1, 5, 30)) == (t(2026, 1, 1, 5), 5)


def test_job_name_is_minutes_since_epoch() -> None:
    assert cd.job_name("hello", t(2026, 1, 1, 0, 1)) == f"hello-{int(t(2026, 1, 1, 0, 1).timestamp()) // 60}"
    assert cd.job_name("hello", t(1970, 1, 1, 1, 0)) == "hello-60"


def cronjob(**spec: object) -> dict[str, object]:
    return {
        "metadata": {"name": "c", "namespace": "ns", "uid": "C", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"schedule": "*/1 * * * *", "jobTemplate": {"spec": {}}, **spec},
    }


def test_cronjob_decisions_refuse_bad_schedules_and_zones() -> None:
    plan = cd.decide(cronjob(schedule="bogus"), [], t(2026, 1, 1, 0, 5))
    assert plan.run_at is None and plan.events[0][:2] == ("Warning", "UnparseableSchedule")
    plan = cd.decide(cronjob(timeZone="Nowhere/Land"), [], t(2026, 1, 1, 0, 5))
    assert plan.run_at is None and plan.events[0][:2] == ("Warning", "UnknownTimeZone")


def test_cronjob_decisions_run_due_and_requeue_at_next() -> None:
    plan = cd.decide(cronjob(), [], t(2026, 1, 1, 0, 5, 20))
    assert plan.run_at == t(2026, 1, 1, 0, 5) and plan.requeue_after == 40.0
    assert plan.status["lastScheduleTime"] == "2026-01-01T00:05:00Z"
    job = cd.job_for(cronjob(), t(2026, 1, 1, 0, 5), UTC)
    assert job["metadata"]["name"] == f"c-{int(t(2026, 1, 1, 0, 5).timestamp()) // 60}"
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    late = cd.decide(cronjob(startingDeadlineSeconds=10), [], t(2026, 1, 1, 0, 5, 20))
    assert late.run_at is None  # 20 s after 00:05 with a 10 s deadline: missed
    assert cd.decide(cronjob(suspend=True), [], t(2026, 1, 1, 0, 5, 20)).run_at is None

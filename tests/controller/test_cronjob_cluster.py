"""CronJobs against a real `kubelite server`, on a FakeClock: runs at schedule times, concurrency
policies, history limits, suspend and the starting deadline, without waiting for minutes.

Each step sets the clock first and then waits until the controller has synced at that time: the
controller may see a new CronJob (its watch event) before the test's create call returns, so a
CronJob made while the clock still shows an earlier step's time would run at that time.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from controller.clock import FakeClock
from controller.cronjob import CronJobController
from tests.controller.cluster import Cluster, eventually
from tests.polling import until

pytestmark = pytest.mark.anyio
settle = functools.partial(eventually, timeout=30.0)  # generous: these run beside real clusters on 2 cores
Obj = dict[str, Any]
# the fake clock starts near the real time (the server stamps creationTimestamp with the real one),
# set afresh for each test by the `crons` fixture
START = dt.datetime.now(dt.UTC).replace(second=30, microsecond=0)


def cj_body(name: str, schedule: str = "*/1 * * * *", **spec: Any) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "metadata": {"labels": {"cron": name}},
                "spec": {
                    "template": {
                        "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}
                    }
                },
            },
            **spec,
        },
    }


class RecordingCronJobController(CronJobController):
    """The controller, noting each finished sync with the (fake) time it began at: a step waits
    for the sync at its time instead of guessing when the controller got to it."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.synced: list[tuple[str, dt.datetime]] = []

    async def sync(self, key: str) -> None:
        began = self.clock.now()
        await super().sync(key)
        self.synced.append((key, began))


class Crons:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.clock = FakeClock(START)
        self.controller: RecordingCronJobController

    async def start(self) -> Crons:
        client = self.cluster.client
        self.controller = self.cluster.run_controller(
            "cronjob-controller",
            lambda f, events: RecordingCronJobController(
                client, f.informer("cronjobs"), f.informer("jobs"), events, self.clock
            ),
        )
        return self

    async def create(self, body: Obj, t: dt.datetime) -> Obj:
        """Create the CronJob at `t` (the clock is set first), once the controller has synced it then."""
        self.clock.set(t)
        mark = len(self.controller.synced)
        cj = dict(await self.cluster.client.create("cronjobs", body, "default"))
        await self._synced_at(body["metadata"]["name"], t, mark)
        return cj

    async def at(self, name: str, t: dt.datetime) -> None:
        """Move the clock to `t` and wait until the controller has synced `name` at `t`."""
        mark = len(self.controller.synced)
        self.clock.set(t)
        self.controller.enqueue(f"default/{name}")
        await self._synced_at(name, t, mark)

    async def _synced_at(self, name: str, t: dt.datetime, mark: int) -> None:
        key = f"default/{name}"
        await until(
            lambda: (key, t) in self.controller.synced[mark:],
            timeout=30.0,
            what=f"a sync of {key} at {t:%H:%M:%S}",
        )

    async def seen(self, name: str, jobs: list[str]) -> list[str]:
        """Wait until the controller's Job cache holds exactly `jobs` of `name` (undeleted): what
        its next sync decides on (Forbid, Replace) is then what the API shows."""

        def cached() -> list[str] | None:
            got = sorted(
                j["metadata"]["name"]
                for j in self.controller.jobs.list("default")
                if (j["metadata"].get("labels") or {}).get("cron") == name
                and not j["metadata"].get("deletionTimestamp")
            )
            return got if got == sorted(jobs) else None

        return await until(cached, timeout=30.0, what=f"the controller's cache to hold {jobs}")

    async def jobs(self, name: str) -> list[Obj]:
        items = (await self.cluster.client.list("jobs", "default"))["items"]
        return sorted(
            (
                j
                for j in items
                if (j["metadata"].get("labels") or {}).get("cron") == name
                and not j["metadata"].get("deletionTimestamp")
            ),
            key=lambda j: j["metadata"]["name"],
        )

    async def names(self, name: str, n: int) -> list[str] | None:
        got = [j["metadata"]["name"] for j in await self.jobs(name)]
        return got if len(got) == n else None

    async def finish(self, job: Obj, type_: str = "Complete") -> None:
        now = self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        st: Obj = {
            "conditions": [{"type": type_, "status": "True", "lastTransitionTime": now}],
            "startTime": now,
        }
        if type_ == "Complete":
            st.update(completionTime=now, succeeded=1)
        else:
            st.update(failed=1)
        await self.cluster.client.patch(
            "jobs", job["metadata"]["name"], {"status": st}, namespace="default", subresource="status"
        )


@pytest.fixture
async def crons(cluster: Cluster) -> AsyncIterator[Crons]:
    global START
    # half a minute ahead at least, so the CronJobs made next are older than the run at minute(1)
    START = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)).replace(second=30, microsecond=0)
    yield await Crons(cluster).start()


def minute(m: int, s: int = 1) -> dt.datetime:
    return START.replace(second=0) + dt.timedelta(minutes=m, seconds=s)


def stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_runs_each_minute_and_keeps_history(cluster: Cluster, crons: Crons) -> None:
    cj = await crons.create(cj_body("tick", successfulJobsHistoryLimit=2), minute(1))
    names = await settle(lambda: crons.names("tick", 1), what="the 12:01 run")
    expected = int(START.replace(second=0).timestamp()) // 60 + 1
    assert names == [f"tick-{expected}"]
    job = (await crons.jobs("tick"))[0]
    assert job["metadata"]["ownerReferences"][0]["uid"] == cj["metadata"]["uid"]
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == stamp(
        minute(1, 0)
    )

    async def status(key: str, ok: Any) -> Obj | None:
        st = (await cluster.client.get("cronjobs", "tick", "default")).get("status") or {}
        return st if ok(st.get(key)) else None

    st = await settle(lambda: status("active", lambda a: len(a or []) == 1), what="active")
    assert st["lastScheduleTime"] == stamp(minute(1, 0)) and st["active"][0]["name"] == names[0]
    for m in (2, 3, 4):  # Allow: runs pile up while earlier ones are still active
        for j in await crons.jobs("tick"):
            if not (j.get("status") or {}).get("conditions"):
                await crons.finish(j)
        await crons.at("tick", minute(m))
        await settle(functools.partial(crons.names, "tick", min(m, 3)), what=f"run {m}")  # 2 finished + 1
    await settle(
        lambda: status("lastSuccessfulTime", lambda t: t == stamp(minute(3))), what="lastSuccessfulTime"
    )

    async def history() -> list[str] | None:
        jobs = await crons.jobs("tick")
        done = [j["metadata"]["name"] for j in jobs if (j.get("status") or {}).get("completionTime")]
        return done if len(done) == 2 and len(jobs) == 3 else None

    kept = await settle(history, what="successfulJobsHistoryLimit 2")
    assert kept == [f"tick-{expected + 1}", f"tick-{expected + 2}"]  # the oldest went


async def test_forbid_replace_suspend_and_deadline(cluster: Cluster, crons: Crons) -> None:
    await crons.create(cj_body("forbid", concurrencyPolicy="Forbid"), minute(1))
    await crons.seen("forbid", await settle(lambda: crons.names("forbid", 1), what="first run"))
    await crons.at("forbid", minute(2))

    async def skipped() -> bool:
        evs = (await cluster.client.list("events", "default"))["items"]
        return any(e["reason"] == "JobAlreadyActive" for e in evs)

    await settle(skipped, what="JobAlreadyActive")
    assert await crons.names("forbid", 1)

    await crons.create(cj_body("replace", concurrencyPolicy="Replace"), minute(3))
    first = await settle(lambda: crons.names("replace", 1), what="first run")
    assert first == [f"replace-{int(minute(3, 0).timestamp()) // 60}"]
    await crons.seen("replace", first)
    await crons.at("replace", minute(4))

    async def replaced() -> list[str] | None:
        got = await crons.names("replace", 1)
        return got if got and got != first else None

    second = await settle(replaced, what="the first run replaced by the second")
    assert second == [f"replace-{int(minute(4, 0).timestamp()) // 60}"]

    await crons.create(cj_body("paused", suspend=True), minute(6))
    assert not await crons.jobs("paused")
    await crons.create(cj_body("late", startingDeadlineSeconds=10), minute(8, 30))
    assert not await crons.jobs("late")  # 30 s after 12:08 with a 10 s deadline: that run is missed
    await crons.at("late", minute(9, 5))  # within 10 s of 12:09: runs

    async def late_run() -> list[str] | None:
        return await crons.names("late", 1)

    names = await settle(late_run, what="the 12:09 run")
    assert names == [f"late-{int(minute(9, 0).timestamp()) // 60}"]
    assert not await crons.jobs("paused")


async def test_time_zone_and_too_many_missed(cluster: Cluster, crons: Crons) -> None:
    # 9:00 in Tokyo is 00:00 UTC; created long ago, so far more than 100 runs were missed
    await crons.create(cj_body("tokyo", "0 9 * * *", timeZone="Asia/Tokyo"), START + dt.timedelta(days=1))
    names = await settle(lambda: crons.names("tokyo", 1), what="the Tokyo run")
    run = (START + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0)  # the latest 00:00 UTC
    assert names == [f"tokyo-{int(run.timestamp()) // 60}"]
    job = (await crons.jobs("tokyo"))[0]
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == (
        run + dt.timedelta(hours=9)
    ).strftime("%Y-%m-%dT09:00:00+09:00")
    await cluster.client.delete("cronjobs", "tokyo", "default")
    await crons.create(cj_body("often"), START + dt.timedelta(hours=3))

    async def warned() -> bool:
        evs = (await cluster.client.list("events", "default"))["items"]
        return any(e["reason"] == "TooManyMissedTimes" and e["type"] == "Warning" for e in evs)

    await settle(warned, what="TooManyMissedTimes")
    latest = int((START + dt.timedelta(hours=3)).replace(second=0).timestamp()) // 60
    assert await crons.names("often", 1) == [f"often-{latest}"]  # only the most recent missed run starts

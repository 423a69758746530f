"""CronJobs against a real `kubelite server`, on a FakeClock: runs at schedule times, concurrency
policies, history limits, suspend and the starting deadline, without waiting for minutes."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from controller.clock import FakeClock
from controller.cronjob import CronJobController
from tests.controller.cluster import Cluster, eventually

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


class Crons:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.clock = FakeClock(START)
        self.controller: CronJobController

    async def start(self) -> Crons:
        client = self.cluster.client
        self.controller = self.cluster.run_controller(
            "cronjob-controller",
            lambda f, events: CronJobController(
                client, f.informer("cronjobs"), f.informer("jobs"), events, self.clock
            ),
        )
        return self

    def at(self, name: str, t: dt.datetime) -> None:
        self.clock.set(t)
        self.controller.enqueue(f"default/{name}")

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
    START = dt.datetime.now(dt.UTC).replace(second=30, microsecond=0)
    yield await Crons(cluster).start()


def minute(m: int, s: int = 1) -> dt.datetime:
    return START.replace(second=0) + dt.timedelta(minutes=m, seconds=s)


def stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_runs_each_minute_and_keeps_history(cluster: Cluster, crons: Crons) -> None:
    cj = await cluster.client.create("cronjobs", cj_body("tick", successfulJobsHistoryLimit=2), "default")
    crons.at("tick", minute(1))
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
        crons.at("tick", minute(m))
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
    await cluster.client.create("cronjobs", cj_body("forbid", concurrencyPolicy="Forbid"), "default")
    crons.at("forbid", minute(1))
    await settle(lambda: crons.names("forbid", 1), what="first run")
    crons.at("forbid", minute(2))

    async def skipped() -> bool:
        evs = (await cluster.client.list("events", "default"))["items"]
        return any(e["reason"] == "JobAlreadyActive" for e in evs)

    await settle(skipped, what="JobAlreadyActive")
    assert await crons.names("forbid", 1)

    await cluster.client.create("cronjobs", cj_body("replace", concurrencyPolicy="Replace"), "default")
    crons.at("replace", minute(3))
    first = await settle(lambda: crons.names("replace", 1), what="first run")
    crons.at("replace", minute(4))

    async def replaced() -> list[str] | None:
        got = await crons.names("replace", 1)
        return got if got and got != first else None

    second = await settle(replaced, what="the first run replaced by the second")
    assert second == [f"replace-{int(minute(4, 0).timestamp()) // 60}"]

    await cluster.client.create("cronjobs", cj_body("paused", suspend=True), "default")
    crons.at("paused", minute(6))
    await cluster.client.create("cronjobs", cj_body("late", startingDeadlineSeconds=10), "default")
    crons.at("late", minute(8, 30))  # 30 s after 12:08 with a 10 s deadline: that run is missed
    crons.at("late", minute(9, 5))  # within 10 s of 12:09: runs

    async def late_run() -> list[str] | None:
        return await crons.names("late", 1)

    names = await settle(late_run, what="the 12:09 run")
    assert names == [f"late-{int(minute(9, 0).timestamp()) // 60}"]
    assert not await crons.jobs("paused")


async def test_time_zone_and_too_many_missed(cluster: Cluster, crons: Crons) -> None:
    # 9:00 in Tokyo is 00:00 UTC; created long ago, so far more than 100 runs were missed
    await cluster.client.create("cronjobs", cj_body("tokyo", "0 9 * * *", timeZone="Asia/Tokyo"), "default")
    crons.at("tokyo", START + dt.timedelta(days=1))
    names = await settle(lambda: crons.names("tokyo", 1), what="the Tokyo run")
    run = (START + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0)  # the latest 00:00 UTC
    assert names == [f"tokyo-{int(run.timestamp()) // 60}"]
    job = (await crons.jobs("tokyo"))[0]
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == (
        run + dt.timedelta(hours=9)
    ).strftime("%Y-%m-%dT09:00:00+09:00")
    await cluster.client.delete("cronjobs", "tokyo", "default")
    crons.clock.set(START + dt.timedelta(hours=3))
    await cluster.client.create("cronjobs", cj_body("often"), "default")

    async def warned() -> bool:
        evs = (await cluster.client.list("events", "default"))["items"]
        return any(e["reason"] == "TooManyMissedTimes" and e["type"] == "Warning" for e in evs)

    await settle(warned, what="TooManyMissedTimes")
    latest = int((START + dt.timedelta(hours=3)).replace(second=0).timestamp()) // 60
    assert await crons.names("often", 1) == [f"often-{latest}"]  # only the most recent missed run starts

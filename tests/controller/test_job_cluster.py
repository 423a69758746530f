"""Jobs against a real `kubelite server`, the test playing a kubelet whose containers exit at once.

Pods of image `ok` succeed and of image `fail` fail as soon as they exist; `sleep` runs until
deleted. The Job controller runs in-process on a FakeClock, so back-off and deadlines are
crossed by moving the clock rather than waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from api import jsonutil
from api.errors import ApiError
from api.informer import Informer
from controller.clock import FakeClock
from controller.job import JobController
from tests.controller.cluster import Cluster, eventually

pytestmark = pytest.mark.anyio
settle = functools.partial(eventually, timeout=30.0)  # generous: these run beside real clusters on 2 cores
Obj = dict[str, Any]


def job_body(name: str, image: str = "ok", **spec: Any) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": image}]}},
            **spec,
        },
    }


class Jobs:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.clock = FakeClock(jsonutil.now())
        self.max_active: dict[str, int] = {}
        self.controller: JobController

    async def start(self) -> Jobs:
        c = self.cluster
        self.controller = c.run_controller(
            "job-controller",
            lambda f, events: JobController(
                c.client, f.informer("jobs"), f.informer("pods"), events, self.clock
            ),
        )
        kubelet = Informer(c.client, "pods", retry_delay=0.1)
        kubelet.add_handlers(self._pod, lambda o, n: self._pod(n))
        c.spawn(kubelet.run())
        return self

    def _pod(self, pod: Obj) -> None:
        m, st = pod["metadata"], pod.get("status") or {}
        job = (m.get("labels") or {}).get("batch.kubernetes.io/job-name", "")
        if m.get("deletionTimestamp"):
            self.cluster.spawn(
                self._quiet(
                    self.cluster.client.delete("pods", m["name"], m["namespace"], grace_period_seconds=0)
                )
            )
            return
        if st.get("phase") in ("Succeeded", "Failed", "Running"):
            return
        image = pod["spec"]["containers"][0]["image"]
        running = [
            p
            for p in self.controller.pods.list(m["namespace"])
            if (p["metadata"].get("labels") or {}).get("batch.kubernetes.io/job-name") == job
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        ]
        self.max_active[job] = max(self.max_active.get(job, 0), len(running))
        now = jsonutil.format_time(self.clock.now())  # the kubelet's clock is the controller's
        if image == "sleep":
            status: Obj = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        else:
            code = 0 if image == "ok" else 1
            status = {
                "phase": "Succeeded" if code == 0 else "Failed",
                "containerStatuses": [
                    {
                        "name": "c",
                        "ready": False,
                        "restartCount": 0,
                        "image": image,
                        "imageID": "",
                        "state": {
                            "terminated": {
                                "exitCode": code,
                                "reason": "Completed" if code == 0 else "Error",
                                "startedAt": now,
                                "finishedAt": now,
                            }
                        },
                    }
                ],
            }
        self.cluster.spawn(self._finish_later(m, status))

    async def _finish_later(self, m: Obj, status: Obj) -> None:
        await asyncio.sleep(0.1)  # let the controller see the pod active first, as with a real kubelet
        await self._quiet(
            self.cluster.client.patch(
                "pods", m["name"], {"status": status}, namespace=m["namespace"], subresource="status"
            )
        )

    @staticmethod
    async def _quiet(aw: Any) -> None:
        with contextlib.suppress(ApiError):
            await aw

    async def job(self, name: str) -> Obj:
        return dict(await self.cluster.client.get("jobs", name, "default"))

    def conditions(self, job: Obj) -> dict[str, str]:
        return {
            c["type"]: c.get("reason", "")
            for c in (job.get("status") or {}).get("conditions") or []
            if c.get("status") == "True"
        }

    async def finished(self, name: str, type_: str) -> Obj | None:
        j = await self.job(name)
        return j if type_ in self.conditions(j) else None

    def kick(self, name: str, seconds: float) -> None:
        self.clock.advance(seconds)
        self.controller.enqueue(f"default/{name}")


@pytest.fixture
async def jobs(cluster: Cluster) -> AsyncIterator[Jobs]:
    yield await Jobs(cluster).start()


async def test_completions_with_parallelism(cluster: Cluster, jobs: Jobs) -> None:
    await cluster.client.create("jobs", job_body("five", completions=5, parallelism=2), "default")
    job = await settle(lambda: jobs.finished("five", "Complete"), what="Complete")
    st = job["status"]
    assert st["succeeded"] == 5 and not st.get("failed") and st["active"] == 0
    assert st["startTime"] and st["completionTime"] and st["uncountedTerminatedPods"] == {}
    assert jobs.conditions(job) == {
        "SuccessCriteriaMet": "CompletionsReached",
        "Complete": "CompletionsReached",
    }
    assert jobs.max_active["five"] <= 2
    pods = [p for p in await cluster.pods() if p["metadata"]["name"].startswith("five-")]
    assert len(pods) == 5 and all(p["status"]["phase"] == "Succeeded" for p in pods)
    assert not any(p["metadata"].get("finalizers") for p in pods)  # counted, then released


async def test_backoff_limit_with_exponential_delay(cluster: Cluster, jobs: Jobs) -> None:
    await cluster.client.create("jobs", job_body("bad", image="fail", backoffLimit=2), "default")

    async def pods(n: int) -> bool:
        return len([p for p in await cluster.pods() if p["metadata"]["name"].startswith("bad-")]) == n

    await settle(lambda: pods(1), what="first pod")

    async def failed(n: int) -> bool:
        return int(((await jobs.job("bad")).get("status") or {}).get("failed") or 0) == n

    await settle(lambda: failed(1), what="first failure counted")
    await asyncio.sleep(0.3)
    assert await pods(1), "the second pod must wait out the 10 s back-off"
    jobs.kick("bad", 10.5)
    await settle(lambda: failed(2), what="second failure")
    jobs.kick("bad", 10.5)  # not yet: the second wait is 20 s
    await asyncio.sleep(0.3)
    assert await pods(2)
    jobs.kick("bad", 10)
    job = await settle(lambda: jobs.finished("bad", "Failed"), what="Failed")
    assert job["status"]["failed"] == 3 and job["status"]["active"] == 0
    assert jobs.conditions(job) == {"FailureTarget": "BackoffLimitExceeded", "Failed": "BackoffLimitExceeded"}
    assert "completionTime" not in job["status"]
    events = (await cluster.client.list("events", "default"))["items"]
    assert any(e["reason"] == "BackoffLimitExceeded" and e["type"] == "Warning" for e in events)


async def test_indexed_job(cluster: Cluster, jobs: Jobs) -> None:
    await cluster.client.create(
        "jobs", job_body("idx", completions=3, parallelism=3, completionMode="Indexed"), "default"
    )
    job = await settle(lambda: jobs.finished("idx", "Complete"), what="Complete")
    assert job["status"]["completedIndexes"] == "0-2" and job["status"]["succeeded"] == 3
    pods = sorted(
        (p for p in await cluster.pods() if p["metadata"]["name"].startswith("idx-")),
        key=lambda p: p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"],
    )
    assert [p["spec"]["hostname"] for p in pods] == ["idx-0", "idx-1", "idx-2"]
    assert [p["metadata"]["name"].rsplit("-", 1)[0] for p in pods] == ["idx-0", "idx-1", "idx-2"]
    env = pods[1]["spec"]["containers"][0]["env"]
    assert env == [
        {
            "name": "JOB_COMPLETION_INDEX",
            "valueFrom": {
                "fieldRef": {
                    "apiVersion": "v1",
                    "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']",
                }
            },
        }
    ]


async def test_active_deadline_and_ttl(cluster: Cluster, jobs: Jobs) -> None:
    await cluster.client.create(
        "jobs",
        job_body("slow", image="sleep", parallelism=2, activeDeadlineSeconds=30, ttlSecondsAfterFinished=60),
        "default",
    )

    async def active(n: int) -> bool:
        return int(((await jobs.job("slow")).get("status") or {}).get("active") or 0) == n

    await settle(lambda: active(2), what="2 active")
    jobs.kick("slow", 31)
    job = await settle(lambda: jobs.finished("slow", "Failed"), what="DeadlineExceeded")
    assert jobs.conditions(job)["Failed"] == "DeadlineExceeded"

    async def no_pods() -> bool:
        return not [p for p in await cluster.pods() if p["metadata"]["name"].startswith("slow-")]

    await settle(no_pods, what="active pods deleted")
    cluster.start_controllers(controllers=("garbagecollector",))  # finishes the foreground deletion
    jobs.kick("slow", 61)  # ttlSecondsAfterFinished: the Job goes

    async def gone() -> bool:
        try:
            await jobs.job("slow")
        except ApiError as e:
            return e.code == 404
        return False

    await settle(gone, what="Job deleted after its TTL")


async def test_deleting_a_running_job_releases_and_removes_its_pods(cluster: Cluster, jobs: Jobs) -> None:
    cluster.start_controllers(controllers=("garbagecollector",))
    await cluster.client.create("jobs", job_body("long", image="sleep", parallelism=2), "default")

    async def pods() -> list[Obj]:
        return [p for p in await cluster.pods() if p["metadata"]["name"].startswith("long-")]

    running = await settle(lambda: _two(pods), what="2 running pods")
    assert all(p["metadata"]["finalizers"] == ["batch.kubernetes.io/job-tracking"] for p in running)
    await cluster.client.delete("jobs", "long", "default", propagation_policy="Background")

    async def none_left() -> bool:
        return not await pods()

    await settle(none_left, what="the Job's pods released and deleted")


async def _two(pods: Any) -> list[Obj] | None:
    got = await pods()
    return (
        got if len(got) == 2 and all((p.get("status") or {}).get("phase") == "Running" for p in got) else None
    )


async def test_orphan_pod_matching_the_selector_is_adopted_and_counted(cluster: Cluster, jobs: Jobs) -> None:
    labels = {"app": "adoptee"}
    orphan = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "stray", "labels": labels},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "sleep"}]},
    }
    await cluster.client.create("pods", orphan, "default")

    async def stray() -> Obj:
        return dict(await cluster.client.get("pods", "stray", "default"))

    async def running() -> bool:
        return (await stray()).get("status", {}).get("phase") == "Running"

    await settle(running, what="the orphan running")
    body = job_body("adopter", image="sleep", completions=1, parallelism=1, manualSelector=True)
    body["spec"]["selector"] = {"matchLabels": labels}
    body["spec"]["template"]["metadata"] = {"labels": labels}
    job = dict(await cluster.client.create("jobs", body, "default"))

    async def adopted() -> Obj | None:
        p = await stray()
        refs = p["metadata"].get("ownerReferences") or []
        return p if refs else None

    pod = await settle(adopted, what="the orphan adopted")
    assert pod["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": "adopter",
            "uid": job["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert pod["metadata"]["finalizers"] == ["batch.kubernetes.io/job-tracking"]

    async def active_one() -> bool:
        return ((await jobs.job("adopter")).get("status") or {}).get("active") == 1

    await settle(active_one, what="the adopted pod counted active")
    now = jsonutil.format_time(jobs.clock.now())
    done = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}}
    status = {
        "phase": "Succeeded",
        "containerStatuses": [
            {"name": "c", "ready": False, "restartCount": 0, "image": "sleep", "imageID": "", "state": done}
        ],
    }
    await cluster.client.patch("pods", "stray", {"status": status}, namespace="default", subresource="status")
    job = await settle(lambda: jobs.finished("adopter", "Complete"), what="Complete")
    assert job["status"]["succeeded"] == 1 and job["status"]["active"] == 0
    mine = [p for p in await cluster.pods(owner_uid=job["metadata"]["uid"])]
    assert [p["metadata"]["name"] for p in mine] == ["stray"]  # no pod of its own was needed
    assert not mine[0]["metadata"].get("finalizers")  # counted, then released

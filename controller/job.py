"""The Job controller: runs a Job's pods to completion, counting each finished pod exactly once.

The I/O shell around `controller.job_decisions`: handlers enqueue the Job's key; `sync`
re-reads the caches, asks `decide`, stores the interim status (new UIDs under
`uncountedTerminatedPods`), takes the tracking finalizer off the counted pods, deletes and
creates pods, stores the final status, and schedules itself again for back-off, deadline and
`ttlSecondsAfterFinished` (a finished Job with a TTL is deleted, its pods with it, as the
ttl-after-finished controller does). Time comes from a `Clock` so tests can move it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from api.errors import ApiError
from api.events import EventRecorder
from api.informer import DeletedFinalStateUnknown, Informer
from controller import job_decisions as jd
from controller import job_pods as jp
from controller.base import ApiClient, Obj, QueueController, controller_ref, meta, unwrap
from controller.clock import Clock, RealClock
from controller.expectations import Expectations

log = logging.getLogger(__name__)


class JobController(QueueController):
    name = "job"

    def __init__(self, client: ApiClient, jobs: Informer, pods: Informer, events: EventRecorder,
                 clock: Clock | None = None, workers: int = 4) -> None:
        super().__init__(workers)
        self.client = client
        self.jobs = jobs
        self.pods = pods
        self.events = events
        self.clock = clock or RealClock()
        self.expectations = Expectations(300.0)
        jobs.add_handlers(self.enqueue, lambda old, new: self.enqueue(new), self.enqueue)
        pods.add_handlers(self._pod_added, lambda old, new: self._pod_changed(new), self._pod_deleted)

    async def run(self, *informers: Informer) -> None:
        await super().run(self.jobs, self.pods, *informers)

    def _job_key(self, pod: Obj) -> str | None:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "Job":
            return None
        return f"{meta(pod).get('namespace')}/{ref.get('name')}"

    def _pod_added(self, pod: Obj) -> None:
        key = self._job_key(pod)
        if key:
            self.expectations.creation_observed(key)
            self.enqueue(key)

    def _pod_changed(self, pod: Obj) -> None:
        key = self._job_key(pod)
        if key:
            if meta(pod).get("deletionTimestamp"):
                self.expectations.deletion_observed(key, meta(pod).get("uid", ""))
            self.enqueue(key)

    def _pod_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        pod = unwrap(obj)
        key = self._job_key(pod)
        if key:
            self.expectations.deletion_observed(key, meta(pod).get("uid", ""))
            self.enqueue(key)

    def _pods_of(self, ns: str | None, name: str, uid: str | None) -> list[Obj]:
        out = []
        for p in self.pods.list(ns):
            ref = controller_ref(p)
            if ref and ref.get("kind") == "Job" and ref.get("name") == name and (uid is None or ref.get("uid") == uid):
                out.append(p)
        return out

    async def sync(self, key: str) -> None:
        ns, _, name = key.rpartition("/")
        job = self.jobs.get(key)
        if job is None:  # gone: its pods must not keep the finalizer (the GC deletes them)
            self.expectations.delete(key)
            for p in self._pods_of(ns or None, name, None):
                if jp.has_finalizer(p):
                    await self._release(p)
            return
        uid = meta(job).get("uid")
        for p in self._pods_of(ns or None, name, None):  # a deleted Job of the same name left them
            if (controller_ref(p) or {}).get("uid") != uid and jp.has_finalizer(p):
                await self._release(p)
        pods = self._pods_of(ns or None, name, uid)
        if not self.expectations.satisfied(key):
            self.queue.add_after(key, 1.0)
            return
        now = self.clock.now()
        plan = jd.decide(job, pods, now)
        if plan.interim is not None:
            job = await self._write_status(key, job, plan.interim)
            if job is None:
                return
        for p in plan.release:
            await self._release(p)
        await self._delete(key, job, plan.delete)
        await self._create(key, job, plan.create, plan.index_failures)
        for type_, reason, message in plan.events:
            self.events.record(job, type_, reason, message)
        if jd.status_changed(job.get("status"), plan.status):
            job = await self._write_status(key, job, plan.status)
            if job is None:
                return
        later = [t for t in (plan.requeue_after, jd.ttl_remaining(job, now)) if t is not None]
        if jd.ttl_remaining(job, now) == 0.0:
            await self._expire(job)
            return
        if later:
            self.queue.add_after(key, min(later) + 0.05)

    async def _write_status(self, key: str, job: Obj, status: Obj) -> Obj | None:
        try:
            return dict(await self.client.update("jobs", dict(job, status=status), meta(job).get("namespace"),
                                                 subresource="status"))
        except ApiError as e:
            if e.code == 404:
                return None
            if e.code == 409:
                self.queue.add_after(key, 0.05)
                return None
            raise

    async def _release(self, pod: Obj) -> None:
        rest = [f for f in meta(pod).get("finalizers") or [] if f != jp.TRACKING_FINALIZER]
        try:
            await self.client.patch("pods", meta(pod)["name"], {"metadata": {"finalizers": rest or None}},
                                    "application/merge-patch+json", namespace=meta(pod).get("namespace"))
        except ApiError as e:
            if e.code != 404:
                raise

    async def _delete(self, key: str, job: Obj, pods: list[Obj]) -> None:
        if not pods:
            return
        self.expectations.expect_deletions(key, [meta(p).get("uid", "") for p in pods])
        for p in pods:
            try:
                await self.client.delete("pods", meta(p)["name"], meta(p).get("namespace"))
                self.events.record(job, "Normal", "SuccessfulDelete", f"Deleted pod: {meta(p)['name']}")
            except ApiError as e:
                self.expectations.deletion_observed(key, meta(p).get("uid", ""))
                if e.code != 404:
                    raise

    async def _create(self, key: str, job: Obj, indexes: list[int | None],
                      index_failures: dict[int, int] | None = None) -> None:
        if not indexes:
            return
        self.expectations.expect_creations(key, len(indexes))
        results: list[Any] = await asyncio.gather(
            *(self.client.create("pods", jp.pod_for(job, i, None if index_failures is None or i is None
                                                    else index_failures.get(i, 0)), meta(job).get("namespace"))
              for i in indexes),
            return_exceptions=True)
        failed = 0
        for r in results:
            if isinstance(r, BaseException):
                failed += 1
                self.events.record(job, "Warning", "FailedCreate", f"Error creating: {r}")
            else:
                self.events.record(job, "Normal", "SuccessfulCreate", f"Created pod: {meta(r).get('name')}")
        if failed:
            self.expectations.creation_observed(key, failed)
            self.queue.add_rate_limited(key)

    async def _expire(self, job: Obj) -> None:
        """ttlSecondsAfterFinished has passed: delete the Job and (foreground) its pods."""
        try:
            await self.client.delete("jobs", meta(job)["name"], meta(job).get("namespace"),
                                     propagation_policy="Foreground")
        except ApiError as e:
            if e.code != 404:
                raise

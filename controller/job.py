"""The Job controller: runs a Job's pods to completion, counting each finished pod exactly once.

The I/O shell around `controller.job_decisions`: handlers enqueue the Job's key; `sync`
re-reads the caches, asks `decide`, stores the interim status (new UIDs under
`uncountedTerminatedPods`), takes the tracking finalizer off the counted pods, deletes and
creates pods, stores the final status, and schedules itself again for back-off, deadline and
`ttlSecondsAfterFinished` (a finished Job with a TTL is deleted, its pods with it, as the
ttl-after-finished controller does). Time comes from a `Clock` so tests can move it. As kube's
getPodsForJob, an unfinished Job claims pods by its selector (`controller.claim`): an orphan that
matches is adopted with the tracking finalizer, so it is counted like a pod of its own.
"""

from __future__ import annotations

import logging

from api.errors import ApiError
from api.events import EventRecorder
from api.informer import Informer
from controller import job_decisions as jd
from controller import job_pods as jp
from controller.base import ApiClient, Obj, controller_ref, meta
from controller.claim import claim_pods, owners_matching
from controller.clock import Clock
from controller.podowner import PodOwnerController

log = logging.getLogger(__name__)


class JobController(PodOwnerController):
    name = "job"
    owner_kind = "Job"

    def __init__(
        self,
        client: ApiClient,
        jobs: Informer,
        pods: Informer,
        events: EventRecorder,
        clock: Clock | None = None,
        workers: int = 4,
    ) -> None:
        super().__init__(client, jobs, pods, (), events, clock, workers)
        self.jobs = jobs
        self.watch_pods()

    def orphan_added(self, pod: Obj) -> None:
        for job in owners_matching(pod, self.jobs.list(meta(pod).get("namespace"))):
            self.enqueue(job)

    def _pods_of(self, ns: str | None, name: str, uid: str | None) -> list[Obj]:
        out = []
        for p in self.pods.list(ns):
            ref = controller_ref(p)
            if (
                ref
                and ref.get("kind") == "Job"
                and ref.get("name") == name
                and (uid is None or ref.get("uid") == uid)
            ):
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
        if not jd.is_finished(job) and not meta(job).get("deletionTimestamp"):
            pods = await claim_pods(
                self.client, "jobs", job, self.pods.list(ns or None), [jp.TRACKING_FINALIZER]
            )
        now = self.clock.now()
        plan = jd.decide(job, pods, now)
        if plan.interim is not None:
            job = await self._write_status(key, job, plan.interim)
            if job is None:
                return
        for p in plan.release:
            await self._release(p)
        await self.delete_pods(key, job, plan.delete)
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
        return await self.write_status(self.client, "jobs", job, status, requeue=key)

    async def _release(self, pod: Obj) -> None:
        rest = [f for f in meta(pod).get("finalizers") or [] if f != jp.TRACKING_FINALIZER]
        try:
            await self.client.patch(
                "pods",
                meta(pod)["name"],
                {"metadata": {"finalizers": rest or None}},
                "application/merge-patch+json",
                namespace=meta(pod).get("namespace"),
            )
        except ApiError as e:
            if e.code != 404:
                raise

    async def _create(
        self, key: str, job: Obj, indexes: list[int | None], index_failures: dict[int, int] | None = None
    ) -> None:
        await self.create_pods(
            key,
            job,
            [
                jp.pod_for(job, i, None if index_failures is None or i is None else index_failures.get(i, 0))
                for i in indexes
            ],
        )

    async def _expire(self, job: Obj) -> None:
        """ttlSecondsAfterFinished has passed: delete the Job and (foreground) its pods."""
        try:
            await self.client.delete(
                "jobs", meta(job)["name"], meta(job).get("namespace"), propagation_policy="Foreground"
            )
        except ApiError as e:
            if e.code != 404:
                raise

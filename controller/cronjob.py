"""The CronJob controller: creates a Job at each scheduled time, and keeps its history short.

The I/O shell around `controller.cronjob_decisions`: CronJob events and its Jobs' events
enqueue the CronJob; `sync` re-reads both caches, deletes what the decision drops (Replace,
history limits), creates the due Job, writes the status, and asks to run again at the next
schedule time. Time comes from a `Clock` so tests can move it instead of waiting for minutes.
"""

from __future__ import annotations

import logging

from api.errors import ApiError
from api.events import EventRecorder
from api.informer import DeletedFinalStateUnknown, Informer
from controller import cronjob_decisions as cd
from controller.base import ApiClient, Obj, OwnerController, controller_key, controller_ref, meta, unwrap
from controller.clock import Clock

log = logging.getLogger(__name__)


class CronJobController(OwnerController):
    name = "cronjob"

    def __init__(
        self,
        client: ApiClient,
        cronjobs: Informer,
        jobs: Informer,
        events: EventRecorder,
        clock: Clock | None = None,
        workers: int = 2,
    ) -> None:
        super().__init__(client, cronjobs, (jobs,), events, clock, workers)
        self.cronjobs = cronjobs
        self.jobs = jobs
        jobs.add_handlers(self._job, lambda old, new: self._job(new), self._job)

    def _job(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        key = controller_key(unwrap(obj), "CronJob")
        if key:
            self.enqueue(key)

    async def sync(self, key: str) -> None:
        cj = self.cronjobs.get(key)
        if cj is None:
            return
        ns, uid = meta(cj).get("namespace"), meta(cj).get("uid")
        jobs = [j for j in self.jobs.list(ns) if (controller_ref(j) or {}).get("uid") == uid]
        known = {meta(j).get("uid") for j in jobs}
        for ref in (cj.get("status") or {}).get("active") or []:
            if (
                ref.get("uid") not in known
            ):  # just made, or really gone? the cache may lag: ask (as kube does)
                try:
                    j = await self.client.get("jobs", ref.get("name", ""), ns)
                except ApiError as e:
                    if e.code != 404:
                        raise
                else:
                    if meta(j).get("uid") == ref.get("uid"):
                        jobs.append(dict(j))
        plan = cd.decide(cj, jobs, self.clock.now())
        for type_, reason, message in plan.events:
            self.events.record(cj, type_, reason, message)
        for j in [*plan.delete_active, *plan.delete_finished]:
            await self._delete_job(cj, j)
        status = dict(plan.status)
        if plan.run_at is not None:
            body = cd.job_for(cj, plan.run_at, plan.zone)
            try:
                created = await self.client.create("jobs", body, ns)
            except ApiError as e:
                if e.code != 409:
                    self.events.record(cj, "Warning", "FailedCreate", f"Error creating job: {e}")
                    raise
            else:
                self.events.record(
                    cj, "Normal", "SuccessfulCreate", f"Created job {meta(created).get('name')}"
                )
                status["active"] = [*status.get("active", []), cd.job_ref(created)]
        await self.update_status(self.client, "cronjobs", key, cj, status)
        if plan.requeue_after is not None:
            self.queue.add_after(key, plan.requeue_after + 0.1)

    async def _delete_job(self, cj: Obj, job: Obj) -> None:
        try:
            await self.client.delete(
                "jobs", meta(job)["name"], meta(job).get("namespace"), propagation_policy="Background"
            )
        except ApiError as e:
            if e.code != 404:
                raise
            return
        self.events.record(cj, "Normal", "SuccessfulDelete", f"Deleted job {meta(job)['name']}")

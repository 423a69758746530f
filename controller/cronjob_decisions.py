"""The CronJob controller's decisions, pure: is a run due, what to delete, what status.

As Kubernetes' cronjob_controllerv2:
- The run due is the latest schedule time in (earliest, now], where earliest is
  `status.lastScheduleTime` (or the CronJob's creation), moved up to now -
  `startingDeadlineSeconds` when that is later; more than 100 missed times get a Warning.
- `suspend` starts nothing; `concurrencyPolicy` Forbid skips a run while a Job is active,
  Replace deletes the active Jobs first, Allow runs them side by side.
- A Job is named `<cronjob>-<scheduled time in minutes since the epoch>`, so a run is created
  once even if the controller restarts; its labels and annotations come from the job template,
  plus `batch.kubernetes.io/cronjob-scheduled-timestamp`.
- `status.active` lists the unfinished Jobs, `lastSuccessfulTime` the latest completion;
  finished Jobs beyond `successfulJobsHistoryLimit` (3) and `failedJobsHistoryLimit` (1) go,
  oldest first.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field

from api import jsonutil
from controller import cronjob_schedule as cs
from controller import job_decisions as jd
from controller.base import Obj, controller_reference, meta

SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
TOO_MANY_MISSED = 100


@dataclass
class CronPlan:
    run_at: dt.datetime | None = None  # the scheduled time of the Job to create now
    delete_active: list[Obj] = field(default_factory=list)  # Replace
    delete_finished: list[Obj] = field(default_factory=list)  # beyond the history limits
    status: Obj = field(default_factory=dict)
    events: list[tuple[str, str, str]] = field(default_factory=list)
    requeue_after: float | None = None
    zone: dt.tzinfo = dt.UTC  # the schedule's time zone (for the scheduled-timestamp annotation)


def job_name(cronjob_name: str, scheduled: dt.datetime) -> str:
    return f"{cronjob_name}-{int(scheduled.timestamp()) // 60}"


def job_ref(job: Obj) -> Obj:
    m = meta(job)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": m.get("name"),
        "namespace": m.get("namespace"),
        "uid": m.get("uid"),
        "resourceVersion": m.get("resourceVersion"),
    }


def job_for(cj: Obj, scheduled: dt.datetime, zone: dt.tzinfo) -> Obj:
    m = meta(cj)
    tmpl = copy.deepcopy((cj.get("spec") or {}).get("jobTemplate") or {})
    tm = tmpl.get("metadata") or {}
    annotations = dict(tm.get("annotations") or {})
    annotations[SCHEDULED_TIMESTAMP] = scheduled.astimezone(zone).isoformat().replace("+00:00", "Z")
    md: Obj = {
        "name": job_name(m.get("name", ""), scheduled),
        "namespace": m.get("namespace"),
        "labels": dict(tm.get("labels") or {}),
        "annotations": annotations,
        "ownerReferences": [controller_reference(cj, "batch/v1", "CronJob")],
    }
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": md, "spec": tmpl.get("spec") or {}}


def _finished_type(job: Obj) -> str | None:
    st = job.get("status") or {}
    if jd.condition(st, "Complete"):
        return "Complete"
    if jd.condition(st, "Failed"):
        return "Failed"
    return None


def _start(job: Obj) -> tuple[str, str]:
    return (
        str((job.get("status") or {}).get("startTime") or meta(job).get("creationTimestamp") or ""),
        meta(job).get("name", ""),
    )


def decide(cj: Obj, jobs: list[Obj], now: dt.datetime) -> CronPlan:
    """One sync of `cj`, given the Jobs it controls."""
    spec, old = cj.get("spec") or {}, cj.get("status") or {}
    plan = CronPlan()
    by_uid = {meta(j).get("uid"): j for j in jobs}
    active: list[Obj] = []
    for ref in old.get("active") or []:
        j = by_uid.get(ref.get("uid"))
        if j is None:
            plan.events.append(("Normal", "MissingJob", f"Active job went missing: {ref.get('name')}"))
        elif _finished_type(j):
            plan.events.append(
                (
                    "Normal",
                    "SawCompletedJob",
                    f"Saw completed job: {meta(j).get('name')}, status: {_finished_type(j)}",
                )
            )
        else:
            active.append(j)
    for j in jobs:
        if not _finished_type(j) and j not in active and not meta(j).get("deletionTimestamp"):
            active.append(j)
    last_success = old.get("lastSuccessfulTime")
    for j in jobs:
        ct = (j.get("status") or {}).get("completionTime")
        if _finished_type(j) == "Complete" and ct and (not last_success or ct > last_success):
            last_success = ct
    plan.delete_finished = _beyond_limits(jobs, spec)
    status: Obj = {}
    if old.get("lastScheduleTime"):
        status["lastScheduleTime"] = old["lastScheduleTime"]
    if last_success:
        status["lastSuccessfulTime"] = last_success
    plan.status = status

    def finish() -> CronPlan:
        refs = {r.get("uid"): r for r in old.get("active") or []}  # kept as stored: no rewrite per Job update
        status["active"] = [
            refs.get(meta(j).get("uid")) or job_ref(j) for j in active if j not in plan.delete_active
        ] or None
        if status["active"] is None:
            status.pop("active")
        return plan

    if meta(cj).get("deletionTimestamp"):
        return finish()
    try:
        schedule = cs.parse(str(spec.get("schedule") or ""), spec.get("timeZone"))
    except cs.ScheduleError as e:
        if "time zone" in str(e):
            plan.events.append(
                ("Warning", "UnknownTimeZone", f"invalid timeZone: {spec.get('timeZone')!r}: {e}")
            )
        else:
            plan.events.append(
                ("Warning", "UnparseableSchedule", f"unparseable schedule: {spec.get('schedule')!r} : {e}")
            )
        return finish()
    plan.zone = schedule.zone
    if spec.get("suspend"):
        return finish()
    earliest = jsonutil.parse_time(
        old.get("lastScheduleTime") or meta(cj).get("creationTimestamp") or jsonutil.format_time(now)
    )
    deadline = spec.get("startingDeadlineSeconds")
    if deadline is not None:
        earliest = max(earliest, now - dt.timedelta(seconds=int(deadline)))
    scheduled, missed = cs.most_recent(schedule, earliest, now)
    nxt = schedule.next(scheduled or now) if scheduled else schedule.next(now)
    while nxt is not None and nxt <= now:
        nxt = schedule.next(nxt)
    plan.requeue_after = (nxt - now).total_seconds() if nxt is not None else None
    if scheduled is None:
        return finish()
    if missed > TOO_MANY_MISSED:
        plan.events.append(
            (
                "Warning",
                "TooManyMissedTimes",
                f"too many missed start times: {missed}. Set or decrease "
                ".spec.startingDeadlineSeconds or check clock skew",
            )
        )
    if deadline is not None and scheduled + dt.timedelta(seconds=int(deadline)) < now:
        plan.events.append(
            ("Warning", "MissSchedule", f"Missed scheduled time to start a job: {scheduled.isoformat()}")
        )
        return finish()
    name = job_name(meta(cj).get("name", ""), scheduled)
    if any(meta(j).get("name") == name for j in jobs):
        status["lastScheduleTime"] = jsonutil.format_time(scheduled)
        return finish()  # this run exists already (made before a restart, or the status write was lost)
    policy = spec.get("concurrencyPolicy") or "Allow"
    if policy == "Forbid" and active:
        plan.events.append(
            (
                "Normal",
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid",
            )
        )
        return finish()
    if policy == "Replace":
        plan.delete_active = list(active)
    plan.run_at = scheduled
    status["lastScheduleTime"] = jsonutil.format_time(scheduled)
    return finish()


def _beyond_limits(jobs: list[Obj], spec: Obj) -> list[Obj]:
    out: list[Obj] = []
    for kind, key, default in (
        ("Complete", "successfulJobsHistoryLimit", 3),
        ("Failed", "failedJobsHistoryLimit", 1),
    ):
        limit = spec.get(key)
        limit = default if limit is None else int(limit)
        done = sorted(
            (j for j in jobs if _finished_type(j) == kind and not meta(j).get("deletionTimestamp")),
            key=_start,
        )
        out.extend(done[: max(0, len(done) - limit)])
    return out

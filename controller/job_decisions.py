"""The Job controller's decisions, pure: from a Job and its pods, what to create, delete, count.

Rules as Kubernetes' job_controller applies them (1.31+):
- NonIndexed: keep min(parallelism, completions - succeeded) pods active; with no
  `completions`, the first success ends it (no new pods; the active ones finish). Indexed: one
  pod per index not yet succeeded, lowest first, at most `parallelism` at a time.
- Failures are counted pods in phase Failed (and pods deleted before finishing); with
  restartPolicy OnFailure the container restarts of active pods count too. More than
  `backoffLimit` sets FailureTarget (reason BackoffLimitExceeded); `activeDeadlineSeconds` past
  `startTime` sets FailureTarget (DeadlineExceeded); a `podFailurePolicy` rule may fail the Job
  at once (PodFailurePolicy) or ignore a failure (controller.job_policies); failures are
  checked before success, as syncJob does; an Indexed Job's `successPolicy` or enough
  successes set SuccessCriteriaMet (SuccessPolicy, CompletionsReached). Then the active pods are deleted, and once none is left the terminal
  condition Failed or Complete (with `completionTime`) follows.
- After a failure, the next pod waits 10 s * 2^(failures since the last success - 1), at most
  6 minutes. With `backoffLimitPerIndex` each index counts (pod annotation
  batch.kubernetes.io/job-index-failure-count) and backs off on its own failures, fails alone
  into `status.failedIndexes`, and the Job fails (FailedIndexes) once every index is done, or
  at once past `maxFailedIndexes` (MaxFailedIndexesExceeded).
- Counting goes through `uncountedTerminatedPods` (see controller.job_pods).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from api import jsonutil
from controller import job_pods as jp
from controller import job_policies as fp
from controller.base import Obj, meta
from controller.replicas import is_ready, pods_to_delete

BACKOFF_BASE = 10.0
BACKOFF_MAX = 360.0
DEFAULT_BACKOFF_LIMIT = 6
BACKOFF_MESSAGE = "Job has reached the specified backoff limit"
DEADLINE_MESSAGE = "Job was active longer than specified deadline"
COMPLETE_MESSAGE = "Reached expected number of succeeded pods"
MAX_FAILED_INDEXES_MESSAGE = "Job has exceeded the specified maximal number of failed indexes"
FAILED_INDEXES_MESSAGE = "Job has failed indexes"


@dataclass
class JobPlan:
    status: Obj  # the status to store once the counted pods' finalizers are gone
    interim: Obj | None = None  # stored first when new pods are counted: their UIDs as uncounted
    create: list[int | None] = field(default_factory=list)  # one entry per pod: its index (None: NonIndexed)
    delete: list[Obj] = field(default_factory=list)
    release: list[Obj] = field(default_factory=list)  # pods whose tracking finalizer comes off
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (type, reason, message)
    requeue_after: float | None = None
    index_failures: dict[int, int] | None = None  # backoffLimitPerIndex: failures per index so far


def condition(status: Obj, type_: str) -> Obj | None:
    for c in status.get("conditions") or []:
        if c.get("type") == type_ and c.get("status") == "True":
            return dict(c)
    return None


def is_finished(job: Obj) -> bool:
    st = job.get("status") or {}
    return condition(st, "Complete") is not None or condition(st, "Failed") is not None


def _cond(type_: str, reason: str, message: str, now: dt.datetime) -> Obj:
    t = jsonutil.format_time(now)
    return {
        "type": type_,
        "status": "True",
        "lastProbeTime": t,
        "lastTransitionTime": t,
        "reason": reason,
        "message": message,
    }


def backoff_delay(failures: int) -> float:
    if failures <= 0:
        return 0.0
    return min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (failures - 1))


def backoff_remaining(pods: list[Obj], now: dt.datetime) -> float:
    """Seconds until a new pod may start after the failures since the last success."""
    last_success = max((jp.finish_time(p, now) for p in pods if jp.phase(p) == "Succeeded"), default=None)
    failed = [jp.finish_time(p, now) for p in pods if jp.phase(p) == "Failed"]
    failed = [t for t in failed if last_success is None or t > last_success]
    if not failed:
        return 0.0
    ready_at = max(failed) + dt.timedelta(seconds=backoff_delay(len(failed)))
    return max(0.0, (ready_at - now).total_seconds())


def decide(job: Obj, pods: list[Obj], now: dt.datetime) -> JobPlan:
    """Everything one sync of `job` does, given its pods (controlled by its UID)."""
    spec, old = job.get("spec") or {}, job.get("status") or {}
    indexed = spec.get("completionMode") == "Indexed"
    completions: int | None = spec.get("completions")
    parallelism = int(spec.get("parallelism", 1) if spec.get("parallelism") is not None else 1)
    backoff_limit = int(
        spec.get("backoffLimit", DEFAULT_BACKOFF_LIMIT)
        if spec.get("backoffLimit") is not None
        else DEFAULT_BACKOFF_LIMIT
    )
    conditions = [dict(c) for c in old.get("conditions") or []]
    events: list[tuple[str, str, str]] = []
    target = condition(old, "FailureTarget") or condition(old, "SuccessCriteriaMet")
    finished = is_finished(job)
    deleting = bool(meta(job).get("deletionTimestamp"))

    # counting: pods with the finalizer that finished (or went away unfinished) are counted once
    unc = old.get("uncountedTerminatedPods") or {}
    unc_s, unc_f = list(unc.get("succeeded") or []), list(unc.get("failed") or [])
    known = set(unc_s) | set(unc_f)
    new_s, new_f, release = [], [], []
    verdicts = {meta(p).get("uid", ""): fp.judge(job, p) for p in pods if jp.phase(p) == "Failed"}
    ignored = {uid for uid, (action, _) in verdicts.items() if action == fp.IGNORE}
    fail_job = ""
    for p in pods:
        if not jp.has_finalizer(p):
            continue
        uid = meta(p).get("uid", "")
        if uid in known:
            release.append(p)
        elif jp.phase(p) == "Succeeded":
            new_s.append(uid)
            release.append(p)
        elif uid in ignored:
            release.append(p)  # podFailurePolicy Ignore: not a failure against backoffLimit
        elif jp.phase(p) == "Failed" or (jp.is_terminating(p) and target is None and not finished):
            new_f.append(uid)
            release.append(p)
            action, message = verdicts.get(uid, (fp.COUNT, ""))
            if action == fp.FAIL_JOB and not fail_job:
                fail_job = message
        elif finished or deleting or (jp.is_terminating(p) and target is not None):
            release.append(p)
    succeeded_n = int(old.get("succeeded") or 0) + len(unc_s) + len(new_s)
    failed_n = int(old.get("failed") or 0) + len(unc_f) + len(new_f)
    done_idx: set[int] = set()
    if indexed:
        done_idx = jp.parse_indexes(old.get("completedIndexes"))
        done_idx |= {
            i
            for p in pods
            if jp.phase(p) == "Succeeded" and (i := jp.index_of(p)) is not None and i < int(completions or 0)
        }
        succeeded_n = len(done_idx)

    active = [p for p in pods if jp.is_active(p)]
    terminating = [p for p in pods if jp.is_terminating(p)]
    plan = JobPlan(status={})
    per_index = spec.get("backoffLimitPerIndex") if indexed else None
    failed_idx: set[int] = set()
    if (
        per_index is not None
    ):  # an index fails alone after backoffLimitPerIndex failures (or a FailIndex rule)
        plan.index_failures = jp.index_failures(pods, ignored)
        failed_idx = jp.parse_indexes(old.get("failedIndexes"))
        failed_idx |= {i for i, n in plan.index_failures.items() if n > int(per_index)}
        failed_idx |= {
            i
            for p in pods
            if verdicts.get(meta(p).get("uid", ""), (fp.COUNT, ""))[0] == fp.FAIL_INDEX
            and (i := jp.index_of(p)) is not None
        }
        failed_idx -= done_idx
    start = old.get("startTime")
    suspended = bool(spec.get("suspend"))
    if not start and not suspended and not finished:
        start = jsonutil.format_time(now)

    if not finished and not deleting:
        if target is None:
            failures = failed_n + (
                sum(jp.restarts(p) for p in active)
                if ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") == "OnFailure"
                else 0
            )
            deadline = spec.get("activeDeadlineSeconds")
            past = (
                start is not None
                and deadline is not None
                and now >= jsonutil.parse_time(start) + dt.timedelta(seconds=int(deadline))
            )
            complete = (
                succeeded_n >= completions if completions is not None else succeeded_n > 0 and not active
            )
            if indexed:
                complete = completions is not None and succeeded_n >= completions
            if fail_job:  # failures first, as syncJob checks them
                target = _cond("FailureTarget", "PodFailurePolicy", fail_job, now)
            elif per_index is None and failures > backoff_limit:
                target = _cond("FailureTarget", "BackoffLimitExceeded", BACKOFF_MESSAGE, now)
            elif past:
                target = _cond("FailureTarget", "DeadlineExceeded", DEADLINE_MESSAGE, now)
            elif spec.get("maxFailedIndexes") is not None and len(failed_idx) > int(spec["maxFailedIndexes"]):
                target = _cond("FailureTarget", "MaxFailedIndexesExceeded", MAX_FAILED_INDEXES_MESSAGE, now)
            elif failed_idx and len(failed_idx | done_idx) >= int(completions or 0):
                target = _cond("FailureTarget", "FailedIndexes", FAILED_INDEXES_MESSAGE, now)
            elif indexed and (matched := fp.success_policy_match(spec, done_idx)):
                target = _cond("SuccessCriteriaMet", "SuccessPolicy", matched, now)
            elif complete:
                target = _cond("SuccessCriteriaMet", "CompletionsReached", COMPLETE_MESSAGE, now)
            if target is not None:
                conditions.append(target)
            elif deadline is not None and start is not None and not suspended:
                left = (
                    jsonutil.parse_time(start) + dt.timedelta(seconds=int(deadline)) - now
                ).total_seconds()
                plan.requeue_after = max(0.0, left)
        if target is not None:
            plan.delete = list(active)
            if not active and not terminating:  # the terminal condition waits for every pod to stop
                if target["type"] == "SuccessCriteriaMet":
                    conditions.append(
                        _cond("Complete", target.get("reason", ""), target.get("message", ""), now)
                    )
                    events.append(("Normal", "Completed", "Job completed"))
                else:
                    conditions.append(
                        _cond("Failed", target.get("reason", ""), target.get("message", ""), now)
                    )
                    events.append(("Warning", target.get("reason", ""), target.get("message", "")))
                finished = True
        elif suspended:
            plan.delete = list(active)
            if condition(old, "Suspended") is None:
                conditions = [c for c in conditions if c.get("type") != "Suspended"]
                conditions.append(_cond("Suspended", "JobSuspended", "Job suspended", now))
                events.append(("Normal", "Suspended", "Job suspended"))
        else:
            if any(c.get("type") == "Suspended" and c.get("status") == "True" for c in conditions):
                conditions = [c for c in conditions if c.get("type") != "Suspended"]
                conditions.append(dict(_cond("Suspended", "JobResumed", "Job resumed", now), status="False"))
                events.append(("Normal", "Resumed", "Job resumed"))
                start = jsonutil.format_time(now)  # activeDeadlineSeconds counts from the resume
            counted = [
                p for p in pods if meta(p).get("uid", "") not in ignored
            ]  # ignored failures cost no back-off
            _manage(
                plan,
                active,
                counted,
                indexed,
                completions,
                parallelism,
                succeeded_n,
                done_idx | failed_idx,
                now,
                per_index is not None,
            )

    status: Obj = {
        "active": len(active),
        "ready": sum(1 for p in active if is_ready(p)),
        "succeeded": succeeded_n,
        "failed": failed_n,
        "terminating": len(terminating),
        "uncountedTerminatedPods": {},
    }
    if start and not (suspended and not old.get("startTime")):
        status["startTime"] = start
    if old.get("completionTime"):
        status["completionTime"] = old["completionTime"]
    elif finished and condition({"conditions": conditions}, "Complete") is not None:
        status["completionTime"] = jsonutil.format_time(now)
    if indexed and done_idx:
        status["completedIndexes"] = jp.format_indexes(done_idx)
    if conditions:
        status["conditions"] = conditions
    if per_index is not None:
        status["failedIndexes"] = jp.format_indexes(failed_idx)
    for k in ("succeeded", "failed"):  # omitempty; `terminating` is always reported (kube 1.29+)
        if not status[k]:
            status.pop(k)
    if new_s or new_f:
        interim = dict(
            status,
            succeeded=int(old.get("succeeded") or 0),
            failed=int(old.get("failed") or 0),
            uncountedTerminatedPods={"succeeded": unc_s + new_s, "failed": unc_f + new_f},
        )
        interim["conditions"] = [dict(c) for c in old.get("conditions") or []] or None
        plan.interim = {k: v for k, v in interim.items() if v is not None}
    plan.status = status
    plan.release = release
    plan.events = events + plan.events
    return plan


def _manage(
    plan: JobPlan,
    active: list[Obj],
    pods: list[Obj],
    indexed: bool,
    completions: int | None,
    parallelism: int,
    succeeded: int,
    done_idx: set[int],
    now: dt.datetime,
    per_index: bool = False,
) -> None:
    wanted: list[int | None] = []
    if indexed:
        total = int(completions or 0)
        by_index: dict[int, list[Obj]] = {}
        for p in active:
            i = jp.index_of(p)
            if i is None or i >= total or i in done_idx:
                plan.delete.append(p)
            else:
                by_index.setdefault(i, []).append(p)
        for group in by_index.values():  # two pods of one index: keep the better one
            plan.delete.extend(pods_to_delete(group, len(group) - 1))
        running = len(by_index)
        missing = [i for i in range(total) if i not in done_idx and i not in by_index]
        wanted = list(missing[: max(0, parallelism - running)])
        if running > parallelism:
            extra = sorted(by_index, reverse=True)[: running - parallelism]
            plan.delete.extend(by_index[i][0] for i in extra)
    else:
        if completions is None:
            want = parallelism if succeeded == 0 else len(active)
        else:
            want = max(0, min(parallelism, completions - succeeded))
        if len(active) > want:
            plan.delete.extend(pods_to_delete(active, len(active) - want))
        wanted = [None] * max(0, want - len(active))
    if wanted and per_index:  # each index backs off on its own failures
        waits = {i: backoff_remaining([p for p in pods if jp.index_of(p) == i], now) for i in wanted}
        later = [w for w in waits.values() if w > 0]
        if later:
            plan.requeue_after = min([*later, *([plan.requeue_after] if plan.requeue_after else [])])
        plan.create = [i for i in wanted if waits[i] <= 0]
    elif wanted:
        wait = backoff_remaining(pods, now)
        if wait > 0:
            plan.requeue_after = min(wait, plan.requeue_after or wait)
        else:
            plan.create = wanted


def ttl_remaining(job: Obj, now: dt.datetime) -> float | None:
    """Seconds until a finished Job with `ttlSecondsAfterFinished` is deleted (None: never)."""
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    st = job.get("status") or {}
    if ttl is None or not is_finished(job):
        return None
    end = st.get("completionTime") or next(
        (
            c.get("lastTransitionTime")
            for c in st.get("conditions") or []
            if c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        ),
        None,
    )
    if not end:
        return 0.0
    return max(0.0, (jsonutil.parse_time(end) + dt.timedelta(seconds=int(ttl)) - now).total_seconds())


def status_changed(old: Any, new: Obj) -> bool:
    return jsonutil.dumps(old or {}) != jsonutil.dumps(new)

"""Pure progress estimation of a Deployment (kube's deployment/progress.go and checkPausedConditions).

After each step the controller recomputes the status from the ReplicaSets and estimates the
Progressing condition: NewReplicaSetAvailable once complete, ReplicaSetUpdated while any count
moves (keeping the transition time, refreshing lastUpdateTime), ProgressDeadlineExceeded when
nothing moved for progressDeadlineSeconds; a paused Deployment shows DeploymentPaused (Unknown)
instead. A ReplicaSet's ReplicaFailure condition is copied up. Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from api import jsonutil
from controller.deployment_util import (
    NEW_RS_AVAILABLE,
    PAUSED,
    RESUMED,
    RS_UPDATED,
    TIMED_OUT,
    Obj,
    calculate_status,
    deployment_complete,
    get_condition,
    has_progress_deadline,
    meta,
    new_condition,
    progress_deadline,
    remove_condition,
    set_condition,
    spec,
)


def _name(rs: Obj) -> str:
    return str(meta(rs).get("name") or "")


def paused_status(d: Obj, now: dt.datetime) -> Obj | None:
    """checkPausedConditions: the status with Progressing Unknown paused/resumed, or None."""
    if not has_progress_deadline(d):
        return None
    status = dict(d.get("status") or {})
    cond = get_condition(status, "Progressing")
    if cond is not None and cond.get("reason") == TIMED_OUT:
        return None
    paused_now = cond is not None and cond.get("reason") == PAUSED
    if spec(d).get("paused") and not paused_now:
        set_condition(status, new_condition("Progressing", "Unknown", PAUSED, "Deployment is paused", now))
    elif not spec(d).get("paused") and paused_now:
        set_condition(status, new_condition("Progressing", "Unknown", RESUMED, "Deployment is resumed", now))
    else:
        return None
    return status


def rollout_status(
    d: Obj, all_rss: Sequence[Obj], new_rs: Obj | None, now: dt.datetime
) -> tuple[Obj, float | None]:
    """syncRolloutStatus: the new status with Progressing estimated, and when to look again
    (a rollout that stops making progress must time out even if nothing else happens)."""
    status = calculate_status(d, all_rss, new_rs, now)
    old = d.get("status") or {}
    name = meta(d).get("name")
    what = f'ReplicaSet "{_name(new_rs)}"' if new_rs is not None else f'Deployment "{name}"'
    if not has_progress_deadline(d):
        remove_condition(status, "Progressing")
    current = get_condition(old, "Progressing")
    complete = (
        status["replicas"] == status["updatedReplicas"]
        and current is not None
        and current.get("reason") == NEW_RS_AVAILABLE
    )
    if has_progress_deadline(d) and not complete:
        if deployment_complete(d, status):
            set_condition(
                status,
                new_condition(
                    "Progressing", "True", NEW_RS_AVAILABLE, f"{what} has successfully progressed.", now
                ),
            )
        elif _progressing(old, status):
            cond = new_condition("Progressing", "True", RS_UPDATED, f"{what} is progressing.", now)
            if current is not None:
                if current.get("status") == "True":
                    cond["lastTransitionTime"] = current.get("lastTransitionTime")
                remove_condition(status, "Progressing")
            status["conditions"] = [*(status.get("conditions") or []), cond]
        elif _timed_out(d, status, now):
            set_condition(
                status,
                new_condition("Progressing", "False", TIMED_OUT, f"{what} has timed out progressing.", now),
            )
    failure = next(
        (
            c
            for r in [new_rs, *all_rss]
            if r is not None
            for c in (r.get("status") or {}).get("conditions") or []
            if c.get("type") == "ReplicaFailure"
        ),
        None,
    )
    if failure is not None:
        set_condition(
            status,
            {
                "type": "ReplicaFailure",
                "status": failure.get("status"),
                "lastUpdateTime": failure.get("lastTransitionTime"),
                "lastTransitionTime": failure.get("lastTransitionTime"),
                "reason": failure.get("reason"),
                "message": failure.get("message"),
            },
        )
    else:
        remove_condition(status, "ReplicaFailure")
    return status, _requeue_after(d, status, now)


def _progressing(old: Obj, new: Obj) -> bool:
    def n(s: Obj, k: str) -> int:
        return int(s.get(k) or 0)

    return (
        n(new, "updatedReplicas") > n(old, "updatedReplicas")
        or n(new, "replicas") - n(new, "updatedReplicas") < n(old, "replicas") - n(old, "updatedReplicas")
        or n(new, "readyReplicas") > n(old, "readyReplicas")
        or n(new, "availableReplicas") > n(old, "availableReplicas")
    )


def _timed_out(d: Obj, status: Obj, now: dt.datetime) -> bool:
    cond = get_condition(status, "Progressing")
    if cond is None or cond.get("reason") == NEW_RS_AVAILABLE:
        return False
    if cond.get("reason") == TIMED_OUT:
        return True
    since = cond.get("lastUpdateTime") or cond.get("lastTransitionTime")
    if not since:
        return False
    deadline = jsonutil.parse_time(since) + dt.timedelta(seconds=progress_deadline(d))
    return deadline < now


def _requeue_after(d: Obj, status: Obj, now: dt.datetime) -> float | None:
    """requeueStuckDeployment: seconds until a progressing rollout would pass its deadline."""
    cond = get_condition(status, "Progressing")
    if (
        not has_progress_deadline(d)
        or cond is None
        or cond.get("reason") != RS_UPDATED
        or deployment_complete(d, status)
    ):
        return None
    since = jsonutil.parse_time(str(cond.get("lastUpdateTime") or cond.get("lastTransitionTime") or ""))
    left = (since + dt.timedelta(seconds=progress_deadline(d)) - now).total_seconds()
    return max(left, 0.0) + 1.0  # a second past the deadline, so the check sees it passed

"""The Job controller's pure decisions: creations, counting through the finalizer, conditions."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from controller import job_decisions as jd
from controller import job_pods as jp
from controller import job_policies as jpol

Obj = dict[str, Any]
NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
_uid = itertools.count()


def stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def job(status: Obj | None = None, **spec: Any) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j", "namespace": "ns", "uid": "J"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c"}]}}, **spec},
        "status": status or {},
    }


def pod(
    phase: str = "Running",
    index: int | None = None,
    finished: dt.datetime | None = None,
    finalizer: bool = True,
    deleting: bool = False,
    restarts: int = 0,
    ready: bool = False,
) -> Obj:
    m: Obj = {"name": f"j-{next(_uid)}", "uid": f"u{next(_uid)}", "creationTimestamp": stamp(NOW)}
    if finalizer:
        m["finalizers"] = [jp.TRACKING_FINALIZER]
    if index is not None:
        m["annotations"] = {jp.INDEX_KEY: str(index)}
    if deleting:
        m["deletionTimestamp"] = stamp(NOW)
    st: Obj = {"phase": phase, "containerStatuses": [{"name": "c", "restartCount": restarts}]}
    if finished:
        st["containerStatuses"][0]["state"] = {"terminated": {"finishedAt": stamp(finished)}}
    if ready:
        st["conditions"] = [{"type": "Ready", "status": "True"}]
    return {"metadata": m, "status": st}


def conds(status: Obj) -> dict[str, str]:
    return {c["type"]: c["reason"] for c in status.get("conditions") or [] if c["status"] == "True"}


def test_first_sync_starts_parallelism_pods_and_sets_start_time() -> None:
    plan = jd.decide(job(completions=5, parallelism=2), [], NOW)
    assert plan.create == [None, None]
    assert plan.status["startTime"] == stamp(NOW) and plan.status["active"] == 0
    assert plan.status["uncountedTerminatedPods"] == {}


def test_never_more_than_remaining_completions() -> None:
    st = {"succeeded": 4, "startTime": stamp(NOW)}
    assert jd.decide(job(st, completions=5, parallelism=3), [], NOW).create == [None]
    two = [pod(), pod()]
    plan = jd.decide(job(st, completions=5, parallelism=3), two, NOW)
    assert plan.create == [] and len(plan.delete) == 1  # one too many active: the surplus goes


def test_finished_pods_are_counted_through_uncounted_then_released() -> None:
    ok, bad, run = pod("Succeeded", finished=NOW), pod("Failed", finished=NOW), pod(ready=True)
    plan = jd.decide(
        job({"startTime": stamp(NOW)}, completions=3, parallelism=2, backoffLimit=5), [ok, bad, run], NOW
    )
    assert plan.interim is not None
    assert plan.interim["uncountedTerminatedPods"] == {
        "succeeded": [ok["metadata"]["uid"]],
        "failed": [bad["metadata"]["uid"]],
    }
    assert plan.interim.get("succeeded", 0) == 0
    assert plan.status["succeeded"] == 1 and plan.status["failed"] == 1 and plan.status["ready"] == 1
    assert {p["metadata"]["uid"] for p in plan.release} == {ok["metadata"]["uid"], bad["metadata"]["uid"]}
    # a pod without the finalizer was counted already: not again
    done = dict(ok, metadata={k: v for k, v in ok["metadata"].items() if k != "finalizers"})
    again = jd.decide(job({"succeeded": 1, "startTime": stamp(NOW)}, completions=3), [done], NOW)
    assert again.interim is None and again.status["succeeded"] == 1


def test_uncounted_uids_move_into_the_counters() -> None:
    st = {"startTime": stamp(NOW), "uncountedTerminatedPods": {"succeeded": ["a"], "failed": ["b"]}}
    plan = jd.decide(job(st, completions=3), [], NOW)
    assert plan.interim is None
    assert plan.status["succeeded"] == 1 and plan.status["failed"] == 1
    assert plan.status["uncountedTerminatedPods"] == {}


def test_success_criteria_then_complete() -> None:
    pods = [pod("Succeeded", finished=NOW) for _ in range(2)]
    plan = jd.decide(job({"startTime": stamp(NOW)}, completions=2, parallelism=2), pods, NOW)
    assert conds(plan.status) == {
        "SuccessCriteriaMet": "CompletionsReached",
        "Complete": "CompletionsReached",
    }
    assert plan.status["completionTime"] == stamp(NOW)
    assert ("Normal", "Completed", "Job completed") in plan.events


def test_no_completions_first_success_ends_it_once_others_finish() -> None:
    st = {"startTime": stamp(NOW)}
    plan = jd.decide(job(st, parallelism=3), [pod("Succeeded", finished=NOW), pod()], NOW)
    assert plan.create == [] and plan.delete == [] and "Complete" not in conds(plan.status)
    plan = jd.decide(
        job(st, parallelism=3), [pod("Succeeded", finished=NOW), pod("Succeeded", finished=NOW)], NOW
    )
    assert "Complete" in conds(plan.status)


def test_backoff_limit_sets_failure_target_deletes_active_then_failed() -> None:
    st = {"startTime": stamp(NOW), "failed": 2}
    running = pod()
    plan = jd.decide(
        job(st, completions=5, parallelism=2, backoffLimit=2), [pod("Failed", finished=NOW), running], NOW
    )
    assert conds(plan.status) == {"FailureTarget": "BackoffLimitExceeded"}
    assert plan.delete == [running] and plan.create == []
    st2 = dict(plan.status, failed=3)
    after = jd.decide(job(st2, completions=5, parallelism=2, backoffLimit=2), [], NOW)
    assert conds(after.status) == {"FailureTarget": "BackoffLimitExceeded", "Failed": "BackoffLimitExceeded"}
    assert "completionTime" not in after.status
    assert ("Warning", "BackoffLimitExceeded", jd.BACKOFF_MESSAGE) in after.events


def test_on_failure_counts_container_restarts() -> None:
    j = job({"startTime": stamp(NOW)}, backoffLimit=3)
    j["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    assert "FailureTarget" in conds(jd.decide(j, [pod(restarts=4)], NOW).status)
    assert "FailureTarget" not in conds(jd.decide(j, [pod(restarts=3)], NOW).status)


def test_exponential_backoff_between_failures() -> None:
    assert [jd.backoff_delay(n) for n in (1, 2, 3, 6, 7, 20)] == [10, 20, 40, 320, 360, 360]
    st = {"startTime": stamp(NOW)}
    failed = [pod("Failed", finished=NOW - dt.timedelta(seconds=5))]
    plan = jd.decide(job(st, completions=1, backoffLimit=6), failed, NOW)
    assert plan.create == [] and plan.requeue_after == 5.0
    two = [*failed, pod("Failed", finished=NOW - dt.timedelta(seconds=15))]
    # two failures: 20 s after the latest one (5 s ago)
    assert jd.decide(job(st, completions=1, backoffLimit=6), two, NOW).requeue_after == 15.0
    late = [pod("Failed", finished=NOW - dt.timedelta(seconds=11))]
    assert jd.decide(job(st, completions=1, backoffLimit=6), late, NOW).create == [None]
    # a success resets the count
    mixed = [
        pod("Failed", finished=NOW - dt.timedelta(seconds=100)),
        pod("Succeeded", finished=NOW - dt.timedelta(seconds=50)),
    ]
    assert jd.backoff_remaining(mixed, NOW) == 0.0


def test_active_deadline() -> None:
    started = stamp(NOW - dt.timedelta(seconds=30))
    running = pod()
    plan = jd.decide(job({"startTime": started}, activeDeadlineSeconds=30), [running], NOW)
    assert conds(plan.status) == {"FailureTarget": "DeadlineExceeded"} and plan.delete == [running]
    plan = jd.decide(job({"startTime": started}, activeDeadlineSeconds=40), [running], NOW)
    assert plan.requeue_after == 10.0 and not plan.delete


def test_indexed_creates_missing_indexes_and_tracks_completed() -> None:
    st = {"startTime": stamp(NOW), "completedIndexes": "0"}
    pods = [pod("Succeeded", index=2, finished=NOW), pod(index=1)]
    plan = jd.decide(job(st, completions=6, parallelism=3, completionMode="Indexed"), pods, NOW)
    assert plan.create == [3, 4]
    assert plan.status["completedIndexes"] == "0,2" and plan.status["succeeded"] == 2
    dup = [pod(index=1), pod(index=1)]
    assert (
        len(jd.decide(job(st, completions=6, parallelism=3, completionMode="Indexed"), dup, NOW).delete) == 1
    )


def test_indexed_pod_shape() -> None:
    p = jp.pod_for(job(completions=3, completionMode="Indexed"), 2)
    m = p["metadata"]
    assert (
        m["generateName"] == "j-2-"
        and m["annotations"][jp.INDEX_KEY] == "2"
        and m["labels"][jp.INDEX_KEY] == "2"
    )
    assert m["finalizers"] == [jp.TRACKING_FINALIZER]
    assert m["labels"][jp.JOB_NAME] == "j" and m["labels"][jp.CONTROLLER_UID] == "J"
    assert m["ownerReferences"][0]["kind"] == "Job" and m["ownerReferences"][0]["controller"] is True
    assert p["spec"]["hostname"] == "j-2"
    assert p["spec"]["containers"][0]["env"][0]["name"] == "JOB_COMPLETION_INDEX"


def test_completed_indexes_format() -> None:
    assert jp.format_indexes([1, 3, 4, 5, 7]) == "1,3-5,7"
    assert jp.format_indexes([0, 1]) == "0,1"
    assert jp.parse_indexes("1,3-5,7") == {1, 3, 4, 5, 7}


def test_suspend_deletes_active_and_records_condition() -> None:
    running = pod()
    plan = jd.decide(job({"startTime": stamp(NOW)}, suspend=True), [running], NOW)
    assert plan.delete == [running] and conds(plan.status) == {"Suspended": "JobSuspended"}


def test_ttl_after_finished() -> None:
    st = {
        "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": stamp(NOW)}],
        "completionTime": stamp(NOW),
    }
    assert jd.ttl_remaining(job(st, ttlSecondsAfterFinished=100), NOW + dt.timedelta(seconds=40)) == 60.0
    assert jd.ttl_remaining(job(st, ttlSecondsAfterFinished=0), NOW) == 0.0
    assert jd.ttl_remaining(job({}, ttlSecondsAfterFinished=0), NOW) is None
    assert jd.ttl_remaining(job(st), NOW) is None


def test_resume_restarts_the_clock() -> None:
    st = {
        "startTime": stamp(NOW - dt.timedelta(hours=1)),
        "conditions": [{"type": "Suspended", "status": "True", "reason": "JobSuspended"}],
    }
    plan = jd.decide(job(st, completions=1), [], NOW)
    assert plan.status["startTime"] == stamp(NOW) and plan.create == [None]
    assert ("Normal", "Resumed", "Job resumed") in plan.events
    assert jd.condition(plan.status, "Suspended") is None


def failed_with(code: int, container: str = "c", conditions: list[Obj] | None = None) -> Obj:
    p = pod("Failed", finished=NOW - dt.timedelta(seconds=1))
    p["metadata"]["namespace"] = "ns"
    p["status"]["containerStatuses"] = [
        {
            "name": container,
            "restartCount": 0,
            "state": {"terminated": {"exitCode": code, "finishedAt": stamp(NOW - dt.timedelta(seconds=1))}},
        }
    ]
    if conditions:
        p["status"]["conditions"] = conditions
    return p


POLICY = {
    "rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": "c", "operator": "In", "values": [42]}},
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
        {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [0, 42]}},
    ]
}


def test_pod_failure_policy_fail_job() -> None:
    bad = failed_with(42)
    plan = jd.decide(
        job({"startTime": stamp(NOW)}, completions=3, backoffLimit=6, podFailurePolicy=POLICY),
        [bad, pod()],
        NOW,
    )
    target = next(c for c in plan.status["conditions"] if c["type"] == "FailureTarget")
    assert target["reason"] == "PodFailurePolicy"
    assert target["message"] == (
        f"Container c for pod ns/{bad['metadata']['name']} failed with exit code 42 "
        "matching FailJob rule at index 0"
    )
    assert len(plan.delete) == 1 and plan.create == []


def test_pod_failure_policy_ignore_and_count() -> None:
    evicted = failed_with(137, conditions=[{"type": "DisruptionTarget", "status": "True"}])
    plan = jd.decide(
        job({"startTime": stamp(NOW)}, completions=1, backoffLimit=0, podFailurePolicy=POLICY), [evicted], NOW
    )
    assert "failed" not in plan.status and plan.interim is None and "conditions" not in plan.status
    assert plan.release == [evicted] and plan.create == [None]  # replaced at once: no back-off for it
    counted = failed_with(3)
    plan = jd.decide(
        job({"startTime": stamp(NOW)}, completions=1, backoffLimit=0, podFailurePolicy=POLICY), [counted], NOW
    )
    assert plan.status["failed"] == 1  # nothing left running: Failed follows in the same sync
    assert conds(plan.status) == {"FailureTarget": "BackoffLimitExceeded", "Failed": "BackoffLimitExceeded"}


def test_success_policy_of_an_indexed_job() -> None:
    spec = {
        "completions": 5,
        "parallelism": 5,
        "completionMode": "Indexed",
        "successPolicy": {"rules": [{"succeededIndexes": "0,1"}, {"succeededCount": 3}]},
    }
    running = pod(index=4)
    leader = [pod("Succeeded", index=0, finished=NOW), pod("Succeeded", index=1, finished=NOW), running]
    plan = jd.decide(job({"startTime": stamp(NOW)}, **spec), leader, NOW)
    met = next(c for c in plan.status["conditions"] if c["type"] == "SuccessCriteriaMet")
    assert (met["reason"], met["message"]) == ("SuccessPolicy", "Matched rules at index 0")
    assert plan.delete == [running] and plan.create == []  # the rest are no longer needed
    three = [pod("Succeeded", index=i, finished=NOW) for i in (1, 2, 3)]
    plan = jd.decide(job({"startTime": stamp(NOW)}, **spec), three, NOW)
    assert conds(plan.status) == {"SuccessCriteriaMet": "SuccessPolicy", "Complete": "SuccessPolicy"}
    assert plan.status["completionTime"] == stamp(NOW)
    assert (
        jpol.success_policy_match(
            {"successPolicy": {"rules": [{"succeededIndexes": "0-3", "succeededCount": 2}]}}, {1, 3}
        )
        == "Matched rules at index 0"
    )
    assert (
        jpol.success_policy_match({"successPolicy": {"rules": [{"succeededIndexes": "0-3"}]}}, {1, 3}) is None
    )


def indexed_failed(i: int, before: int = 0, ago: float = 100) -> Obj:
    p = pod("Failed", index=i, finished=NOW - dt.timedelta(seconds=ago))
    p["metadata"]["annotations"][jp.INDEX_FAILURES] = str(before)
    return p


def test_backoff_limit_per_index() -> None:
    spec = {
        "completions": 3,
        "parallelism": 3,
        "completionMode": "Indexed",
        "backoffLimitPerIndex": 1,
        "backoffLimit": 6,
    }
    st = {"startTime": stamp(NOW)}
    # index 0 failed once: retried, its new pod carries the count; index 1 failed twice: it is failed
    pods = [indexed_failed(0), indexed_failed(1, before=1), pod("Succeeded", index=2, finished=NOW)]
    plan = jd.decide(job(st, **spec), pods, NOW)
    assert plan.status["failedIndexes"] == "1" and plan.create == [0]
    assert plan.index_failures == {0: 1, 1: 2, 2: 0}
    assert jp.pod_for(job(st, **spec), 0, 1)["metadata"]["annotations"][jp.INDEX_FAILURES] == "1"
    assert "conditions" not in plan.status  # index 0 may still succeed
    # every index done, one failed: the Job fails with FailedIndexes
    done = [indexed_failed(0, before=1), indexed_failed(1, before=1), pod("Succeeded", index=2, finished=NOW)]
    plan = jd.decide(job(st, **spec), done, NOW)
    assert conds(plan.status) == {"FailureTarget": "FailedIndexes", "Failed": "FailedIndexes"}
    assert plan.status["failedIndexes"] == "0,1"
    # maxFailedIndexes: past it the Job fails at once, with pods still running
    running = pod(index=2)
    plan = jd.decide(job(st, maxFailedIndexes=0, **spec), [indexed_failed(1, before=1), running], NOW)
    assert conds(plan.status) == {"FailureTarget": "MaxFailedIndexesExceeded"} and plan.delete == [running]


def test_per_index_backoff_waits_only_for_the_failed_index() -> None:
    spec = {"completions": 2, "parallelism": 2, "completionMode": "Indexed", "backoffLimitPerIndex": 3}
    plan = jd.decide(job({"startTime": stamp(NOW)}, **spec), [indexed_failed(0, ago=4)], NOW)
    assert plan.create == [1] and plan.requeue_after == 6.0

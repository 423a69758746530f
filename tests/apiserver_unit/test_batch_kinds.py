"""The batch/v1 strategy rows (apiserver/kinds/batch.py) through the server's create and update
steps: a Job's generated selector and labels, batch/v1 defaults, kube's 422 wording for Jobs
and CronJobs, the immutable parts of a Job, and robfig/cron's schedule errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apiserver.validation.cron import schedule_error
from tests.apiserver_unit import strategy

Obj = dict[str, Any]
UID = "8e2c7a3e-0000-4000-8000-000000000001"


def job(name: str = "pi", **spec: Any) -> Obj:
    body: Obj = {
        "template": {"spec": {"containers": [{"name": "c", "image": "busybox:1"}], "restartPolicy": "Never"}}
    }
    body.update(spec)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": body,
    }


def cron_job(schedule: str = "*/5 * * * *", **spec: Any) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "tick", "namespace": "default"},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": job()["spec"]}, **spec},
    }


def create(plural: str, obj: Obj) -> tuple[Obj, list[dict[str, str]]]:
    return strategy.create("batch", plural, obj, UID)


def update(plural: str, new: Obj, old: Obj) -> list[dict[str, str]]:
    return strategy.update("batch", plural, new, old)[1]


def messages(causes: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(c["field"], c["message"]) for c in causes]


def test_job_gets_its_selector_labels_and_defaults() -> None:
    j, causes = create("jobs", job())
    assert causes == []
    spec = j["spec"]
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}}
    generated = {
        "batch.kubernetes.io/controller-uid": UID,
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": UID,
        "job-name": "pi",
    }
    assert spec["template"]["metadata"]["labels"] == generated
    assert j["metadata"]["labels"] == generated  # a Job without labels takes its template's
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"]) == (1, 1, 6)
    assert (
        spec["completionMode"],
        spec["suspend"],
        spec["manualSelector"],
        spec["podReplacementPolicy"],
    ) == ("NonIndexed", False, False, "TerminatingOrFailed")
    assert j["status"] == {} and j["metadata"]["generation"] == 1
    # parallelism alone leaves completions unset (a work queue)
    queue, _ = create("jobs", job(parallelism=3))
    assert "completions" not in queue["spec"] and queue["spec"]["parallelism"] == 3
    # a pod failure policy makes Failed the replacement policy and its patterns default to True
    pfp = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}
    with_policy, causes = create("jobs", job(podFailurePolicy=pfp))
    assert causes == [] and with_policy["spec"]["podReplacementPolicy"] == "Failed"
    assert with_policy["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"] == "True"


def test_manual_selector_is_the_users() -> None:
    manual = job(manualSelector=True, selector={"matchLabels": {"app": "x"}})
    manual["spec"]["template"]["metadata"] = {"labels": {"app": "x"}}
    j, causes = create("jobs", manual)
    assert causes == [] and j["spec"]["selector"] == {"matchLabels": {"app": "x"}}
    assert j["spec"]["template"]["metadata"]["labels"] == {"app": "x"}
    # without manualSelector a selector of the user's own is refused
    _, causes = create("jobs", job(selector={"matchLabels": {"app": "x"}}))
    assert ("spec.selector", "`selector` not auto-generated") in [
        (f, m.rsplit(": ", 1)[-1]) for f, m in messages(causes)
    ]


def test_job_validation_worded_as_kube() -> None:
    always = job()
    always["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    _, causes = create("jobs", always)
    assert messages(causes) == [
        (
            "spec.template.spec.restartPolicy",
            'Unsupported value: "Always": supported values: "OnFailure", "Never"',
        )
    ]
    _, causes = create(
        "jobs", job(backoffLimit=-1, completionMode="Indexed", completions=None, parallelism=2)
    )
    assert messages(causes) == [
        ("spec.backoffLimit", "Invalid value: -1: must be greater than or equal to 0"),
        ("spec.completions", "Required value: when completion mode is Indexed"),
    ]
    _, causes = create("jobs", job(name="x" * 62, completionMode="Indexed", completions=20))
    assert (
        "metadata.name",
        f'Invalid value: "{"x" * 62}": will not able to create pod with invalid DNS label: {"x" * 62}-19',
    ) in messages(causes)


def test_job_spec_is_mostly_immutable() -> None:
    old, _ = create("jobs", job())
    changed = copy.deepcopy(old)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:2"
    changed["spec"]["completions"] = 2
    assert messages(update("jobs", changed, old)) == [
        ("spec.completions", "Invalid value: 2: field is immutable"),
        ("spec.template", "Invalid value: core.PodTemplateSpec{...}: field is immutable"),
    ]
    ok = copy.deepcopy(old)
    ok["spec"]["parallelism"] = 4
    ok["spec"]["suspend"] = True
    ok["spec"]["activeDeadlineSeconds"] = 60
    assert update("jobs", ok, old) == []
    # a suspended job that never started may change its scheduling directives
    suspended, _ = create("jobs", job(suspend=True))
    moved = copy.deepcopy(suspended)
    moved["spec"]["template"]["spec"]["nodeSelector"] = {"zone": "a"}
    assert update("jobs", moved, suspended) == []


def test_cron_job_defaults_and_validation() -> None:
    cj, causes = create("cronjobs", cron_job())
    assert causes == []
    spec = cj["spec"]
    assert (
        spec["concurrencyPolicy"],
        spec["suspend"],
        spec["successfulJobsHistoryLimit"],
        spec["failedJobsHistoryLimit"],
    ) == ("Allow", False, 3, 1)
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert "backoffLimit" not in spec["jobTemplate"]["spec"]  # kube does not default the template's JobSpec
    assert cj["status"] == {}
    _, causes = create(
        "cronjobs", cron_job("61 * * * *", concurrencyPolicy="Sometimes", timeZone="Mars/Olympus")
    )
    assert messages(causes) == [
        ("spec.schedule", 'Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'),
        ("spec.timeZone", 'Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'),
        (
            "spec.concurrencyPolicy",
            'Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
        ),
    ]
    with_selector = cron_job()
    with_selector["spec"]["jobTemplate"]["spec"]["selector"] = {"matchLabels": {"a": "b"}}
    _, causes = create("cronjobs", with_selector)
    assert [c["field"] for c in causes] == ["spec.jobTemplate.spec.selector"]
    assert causes[0]["message"].endswith("`selector` will be auto-generated")
    _, causes = create("cronjobs", cron_job("TZ=UTC 0 * * * *"))
    assert (
        "spec.schedule",
        'Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
    ) in messages(causes)
    long_name = cron_job()
    long_name["metadata"]["name"] = "n" * 53
    _, causes = create("cronjobs", long_name)
    assert messages(causes) == [
        ("metadata.name", f'Invalid value: "{"n" * 53}": must be no more than 52 characters')
    ]


@pytest.mark.parametrize(
    ("schedule", "error"),
    [
        ("*/15 * * * *", None),
        ("0 9 * * MON-FRI", None),
        ("0 0 1 jan,jul ?", None),
        ("@hourly", None),
        ("@every 1h30m", None),
        ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
        ("0 24 * * *", "end of range (24) above maximum (23): 24"),
        ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        ("@often", "unrecognized descriptor: @often"),
        ("", "empty spec string"),
    ],
)
def test_schedule_errors_as_robfig_cron(schedule: str, error: str | None) -> None:
    assert schedule_error(schedule) == error


def test_pod_failure_policy_rules() -> None:
    rules = [
        {"action": "FailJob", "onExitCodes": {"containerName": "c", "operator": "In", "values": [42, 0, 7]}},
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
        {"action": "FailIndex", "onExitCodes": {"operator": "NotIn", "values": [1]}},
        {
            "action": "Retry",
            "onExitCodes": {"operator": "In", "values": [1]},
            "onPodConditions": [{"type": "X", "status": "Maybe"}],
        },
        {"action": "Count", "onExitCodes": {"containerName": "nope", "operator": "Within", "values": [3, 3]}},
        {"action": "Count"},
    ]
    _, causes = create("jobs", job(podFailurePolicy={"rules": rules}))
    p = "spec.podFailurePolicy.rules"
    assert messages(causes) == [
        (f"{p}[0].onExitCodes.values[1]", "Invalid value: 0: must not be 0 for the In operator"),
        (f"{p}[0].onExitCodes.values", "Invalid value: []int32{42, 0, 7}: must be ordered"),
        (f"{p}[2].action", 'Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set'),
        (
            f"{p}[3].action",
            'Unsupported value: "Retry": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
        ),
        (
            f"{p}[3].onPodConditions[0].status",
            'Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
        ),
        (f"{p}[3]", "Invalid value: specifying both OnExitCodes and OnPodConditions is not supported"),
        (f"{p}[4].onExitCodes.operator", 'Unsupported value: "Within": supported values: "In", "NotIn"'),
        (
            f"{p}[4].onExitCodes.containerName",
            'Invalid value: "nope": must be one of the container or initContainer names in the pod template',
        ),
        (f"{p}[4].onExitCodes.values[1]", "Duplicate value: 3"),
        (f"{p}[5]", "Invalid value: specifying one of OnExitCodes and OnPodConditions is required"),
    ]

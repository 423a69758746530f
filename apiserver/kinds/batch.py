"""Rows of the batch/v1 kinds, Job and CronJob: kube's registry strategies as data.

PrepareForCreate of a Job resets its status and, unless `spec.manualSelector` is true, gives it
the selector and pod labels kube generates: the template gets `batch.kubernetes.io/controller-uid`
and `batch.kubernetes.io/job-name` (and the legacy `controller-uid` / `job-name`), the selector
matches `batch.kubernetes.io/controller-uid` = the Job's uid, so a Job's pods are its own and
no other's. Labels the user already set are kept (validation then refuses a conflict).

Defaults are k8s.io/kubernetes pkg/apis/batch/v1/defaults.go: completions and parallelism 1
when neither is set, backoffLimit 6, completionMode NonIndexed, suspend false, manualSelector
false, podReplacementPolicy TerminatingOrFailed (Failed with a podFailurePolicy), a Job without
labels takes its template's; a CronJob's concurrencyPolicy Allow, suspend false and history
limits 3 and 1; the pod template's own defaults for both.
"""

from __future__ import annotations

from typing import Any

from api.jsonutil import as_object
from api.resources import by_plural
from apiserver.defaults import template_defaults
from apiserver.kinds import KindStrategy, Obj, register
from apiserver.validation import batch as v
from apiserver.validation.podwarnings import template_warnings

INT32_MAX = 2**31 - 1


def _row(plural: str, **kw: Any) -> KindStrategy:
    res = by_plural("batch", plural)
    assert res is not None, plural
    return register(KindStrategy(res, **kw))


# --- Job ------------------------------------------------------------------------------------------


def generate_selector(job: Obj) -> None:
    """kube's generateSelector: server-made labels on the template and a selector of the uid."""
    meta = as_object(job.get("metadata"))
    uid, name = str(meta.get("uid") or ""), str(meta.get("name") or "")
    spec = job.get("spec")
    if not isinstance(spec, dict):
        return
    template = spec.get("template")
    if template is None:
        template = spec["template"] = {}
    if not isinstance(template, dict):
        return
    tmeta = template.get("metadata")
    if tmeta is None:
        tmeta = template["metadata"] = {}
    if not isinstance(tmeta, dict):
        return
    labels = tmeta.get("labels")
    labels = dict(labels) if isinstance(labels, dict) else {}
    for key in (v.LEGACY_JOB_NAME, v.JOB_NAME):
        labels.setdefault(key, name)
    for key in (v.LEGACY_CONTROLLER_UID, v.CONTROLLER_UID):
        labels.setdefault(key, uid)
    tmeta["labels"] = labels
    selector = spec.get("selector")
    if selector is None:
        selector = spec["selector"] = {}
    if isinstance(selector, dict):
        match = selector.get("matchLabels")
        match = dict(match) if isinstance(match, dict) else {}
        match.setdefault(v.CONTROLLER_UID, uid)
        selector["matchLabels"] = match


def _job_create(job: Obj) -> None:
    job["status"] = {}
    if as_object(job.get("spec")).get("manualSelector") is not True:
        generate_selector(job)


def _job_spec_defaults(spec: Obj) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = INT32_MAX if spec.get("backoffLimitPerIndex") is not None else 6
    if spec.get("completionMode") is None:
        spec["completionMode"] = "NonIndexed"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    policy = spec.get("podFailurePolicy")
    for rule in as_object(policy).get("rules") or []:
        for pattern in as_object(rule).get("onPodConditions") or []:
            if isinstance(pattern, dict) and not pattern.get("status"):
                pattern["status"] = "True"
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if policy is not None else "TerminatingOrFailed"
    template_defaults(spec)


def _spec(obj: Obj) -> Obj | None:
    """The object's spec, made {} when null; None when it is no object (validation refuses it)."""
    if obj.get("spec") is None:
        obj["spec"] = {}
    spec = obj["spec"]
    return spec if isinstance(spec, dict) else None


def default_job(job: Obj) -> None:
    spec = _spec(job)
    if spec is None:
        return
    _job_spec_defaults(spec)
    if spec.get("manualSelector") is None:
        spec["manualSelector"] = False
    labels = as_object(as_object(spec.get("template")).get("metadata")).get("labels")
    meta = job.setdefault("metadata", {})
    if isinstance(meta, dict) and isinstance(labels, dict) and labels and not meta.get("labels"):
        meta["labels"] = dict(labels)


_row(
    "jobs",
    warnings=template_warnings("spec", "template"),
    status_separate=True,
    generation=True,
    prepare_create=_job_create,
    defaults=default_job,
    validate=v.validate_job,
    validate_update=v.validate_job_update,
    validate_status=v.validate_job_status,
    field_paths=frozenset({"status.successful"}),
)


# --- CronJob --------------------------------------------------------------------------------------


def default_cron_job(cron_job: Obj) -> None:
    spec = _spec(cron_job)
    if spec is None:
        return
    if not spec.get("concurrencyPolicy"):
        spec["concurrencyPolicy"] = "Allow"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("successfulJobsHistoryLimit") is None:
        spec["successfulJobsHistoryLimit"] = 3
    if spec.get("failedJobsHistoryLimit") is None:
        spec["failedJobsHistoryLimit"] = 1
    job_spec = as_object(spec.get("jobTemplate")).get("spec")
    if isinstance(job_spec, dict):
        template_defaults(job_spec)


def _cron_job_create(cron_job: Obj) -> None:
    cron_job["status"] = {}


_row(
    "cronjobs",
    warnings=template_warnings("spec", "jobTemplate", "spec", "template"),
    status_separate=True,
    generation=True,
    prepare_create=_cron_job_create,
    defaults=default_cron_job,
    validate=v.validate_cron_job,
)

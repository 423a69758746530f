"""`kubectl describe` of DaemonSets, StatefulSets, Jobs and CronJobs, ours beside the real kubectl 1.33.

The session server runs no controllers: each test writes the objects and their status itself,
then both kubectls describe them against the same server.
"""

from __future__ import annotations

from typing import Any

from tests.kubectl.helpers import same

Obj = dict[str, Any]


def template(app: str) -> Obj:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {
            "containers": [{"name": "main", "image": "busybox:1.35", "command": ["sleep", "3600"]}],
            "nodeSelector": {"disk": "ssd"},
        },
    }


API_VERSIONS = {"DaemonSet": "apps/v1", "StatefulSet": "apps/v1", "Job": "batch/v1", "CronJob": "batch/v1"}


def with_status(c: Any, ns: str, kind: str, metadata: Obj, spec: Obj, status: Obj) -> Obj:
    """Create the object and write its status, as its controller would have."""
    obj = {"apiVersion": API_VERSIONS[kind], "kind": kind, "metadata": metadata, "spec": spec}
    resource = kind.lower() + "s"
    created = c.create(resource, obj, ns)
    created["status"] = status
    return dict(c.update(resource, created, ns, subresource="status"))


def test_describe_daemonset_and_statefulset_match_real(ns: str, client: Any, kubectl: Any, real: Any) -> None:
    with_status(
        client,
        ns,
        "DaemonSet",
        {"name": "agent", "labels": {"tier": "node"}},
        {"selector": {"matchLabels": {"app": "agent"}}, "template": template("agent")},
        {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 2,
            "numberReady": 2,
            "numberAvailable": 1,
            "updatedNumberScheduled": 2,
            "numberMisscheduled": 1,
            "observedGeneration": 1,
        },
    )
    with_status(
        client,
        ns,
        "StatefulSet",
        {"name": "db"},
        {
            "replicas": 3,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": template("db"),
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
        },
        {
            "replicas": 2,
            "readyReplicas": 1,
            "currentReplicas": 2,
            "updatedReplicas": 0,
            "currentRevision": "db-1",
            "updateRevision": "db-2",
            "observedGeneration": 1,
            "collisionCount": 0,
        },
    )
    with_status(
        client,
        ns,
        "StatefulSet",
        {"name": "plain"},
        {
            "selector": {"matchLabels": {"app": "plain"}},
            "serviceName": "plain",
            "template": template("plain"),
        },
        {"replicas": 0},
    )
    same(kubectl, real, "describe", "daemonset", "agent")
    same(kubectl, real, "describe", "statefulset", "db")
    same(kubectl, real, "describe", "sts", "plain")


def test_describe_job_and_cronjob_match_real(ns: str, client: Any, kubectl: Any, real: Any) -> None:
    job_tmpl = {"template": {"spec": {**template("x")["spec"], "restartPolicy": "Never"}}}
    with_status(
        client,
        ns,
        "Job",
        {"name": "five"},
        {
            "completions": 5,
            "parallelism": 2,
            "backoffLimit": 3,
            "ttlSecondsAfterFinished": 100,
            "activeDeadlineSeconds": 600,
            **job_tmpl,
        },
        {
            "startTime": "2026-01-01T10:00:00Z",
            "completionTime": "2026-01-01T10:01:05Z",
            "succeeded": 5,
            "active": 0,
            "ready": 0,
            "uncountedTerminatedPods": {},
            "conditions": [
                {
                    "type": "Complete",
                    "status": "True",
                    "reason": "CompletionsReached",
                    "lastProbeTime": "2026-01-01T10:01:05Z",
                    "lastTransitionTime": "2026-01-01T10:01:05Z",
                }
            ],
        },
    )
    with_status(
        client,
        ns,
        "Job",
        {"name": "idx"},
        {"completions": 8, "parallelism": 3, "completionMode": "Indexed", **job_tmpl},
        {
            "startTime": "2026-01-01T10:00:00Z",
            "active": 3,
            "ready": 1,
            "failed": 1,
            "completedIndexes": "0,2-4",
            "uncountedTerminatedPods": {},
        },
    )
    with_status(
        client,
        ns,
        "CronJob",
        {"name": "tick"},
        {
            "schedule": "*/5 * * * *",
            "startingDeadlineSeconds": 30,
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {"spec": {"completions": 2, **job_tmpl}},
        },
        {
            "lastScheduleTime": "2026-01-01T10:05:00Z",
            "active": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": "tick-29434745",
                    "namespace": ns,
                    "uid": "0b5c3f1e-0000-4000-8000-000000000001",
                }
            ],
        },
    )
    with_status(
        client,
        ns,
        "CronJob",
        {"name": "idle"},
        {
            "schedule": "@hourly",
            "timeZone": "Asia/Tokyo",
            "suspend": True,
            "successfulJobsHistoryLimit": 1,
            "jobTemplate": {"spec": job_tmpl},
        },
        {},
    )
    same(kubectl, real, "describe", "job", "five")
    same(kubectl, real, "describe", "job", "idx")
    same(kubectl, real, "describe", "cronjob", "tick")
    same(kubectl, real, "describe", "cj", "idle")

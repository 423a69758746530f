"""Table columns and cells of the workload kinds (api/tables_workloads.py), as kube's printers
compute them: names and priorities of the columns, Ready as ready/desired, Job Status and
Completions and Duration, CronJob Suspend and Last Schedule, ControllerRevision Controller."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from api import tables
from api.resources import by_plural

NOW = dt.datetime(2026, 1, 1, 1, 0, tzinfo=dt.UTC)
CREATED = "2026-01-01T00:00:00Z"


def cells(group: str, plural: str, obj: dict[str, Any]) -> list[Any]:
    res = by_plural(group, plural)
    assert res is not None
    obj.setdefault("metadata", {}).setdefault("creationTimestamp", CREATED)
    row: list[Any] = tables.to_table(res, [obj], "1", "None", NOW)["rows"][0]["cells"]
    return row


@pytest.mark.parametrize(
    ("group", "plural", "names"),
    [
        (
            "apps",
            "deployments",
            ["Name", "Ready", "Up-to-date", "Available", "Age", "+Containers", "+Images", "+Selector"],
        ),
        (
            "apps",
            "replicasets",
            ["Name", "Desired", "Current", "Ready", "Age", "+Containers", "+Images", "+Selector"],
        ),
        (
            "apps",
            "daemonsets",
            [
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Up-to-date",
                "Available",
                "Node Selector",
                "Age",
                "+Containers",
                "+Images",
                "+Selector",
            ],
        ),
        ("apps", "statefulsets", ["Name", "Ready", "Age", "+Containers", "+Images"]),
        ("apps", "controllerrevisions", ["Name", "Controller", "Revision", "Age"]),
        (
            "batch",
            "jobs",
            ["Name", "Status", "Completions", "Duration", "Age", "+Containers", "+Images", "+Selector"],
        ),
        (
            "batch",
            "cronjobs",
            [
                "Name",
                "Schedule",
                "Timezone",
                "Suspend",
                "Active",
                "Last Schedule",
                "Age",
                "+Containers",
                "+Images",
                "+Selector",
            ],
        ),
    ],
)
def test_columns_are_kubes(group: str, plural: str, names: list[str]) -> None:
    res = by_plural(group, plural)
    assert res is not None
    cols = tables.table_columns(res)
    assert [("+" if c["priority"] else "") + c["name"] for c in cols] == names
    assert cols[0]["format"] == "name"


TEMPLATE = {"spec": {"containers": [{"name": "a", "image": "busybox:1"}, {"name": "b", "image": "nginx"}]}}


def test_apps_rows() -> None:
    dep = {
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 3,
            "template": TEMPLATE,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["qa"]}],
            },
        },
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 1},
    }
    assert cells("apps", "deployments", dep) == [
        "web",
        "2/3",
        3,
        1,
        "60m",
        "a,b",
        "busybox:1,nginx",
        "app=web,env notin (qa)",
    ]
    rs = {
        "metadata": {"name": "web-1"},
        "spec": {"replicas": 2, "template": TEMPLATE, "selector": {}},
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    assert cells("apps", "replicasets", rs) == ["web-1", 2, 2, 1, "60m", "a,b", "busybox:1,nginx", "<none>"]
    ds = {
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "spec": {
                    "nodeSelector": {"zone": "a", "disk": "ssd"},
                    "containers": [{"name": "a", "image": "x"}],
                }
            },
        },
        "status": {
            "desiredNumberScheduled": 2,
            "currentNumberScheduled": 2,
            "numberReady": 1,
            "updatedNumberScheduled": 2,
            "numberAvailable": 1,
        },
    }
    assert cells("apps", "daemonsets", ds) == [
        "agent",
        2,
        2,
        1,
        2,
        1,
        "disk=ssd,zone=a",
        "60m",
        "a",
        "x",
        "app=agent",
    ]
    sts = {
        "metadata": {"name": "db"},
        "spec": {"replicas": 3, "template": TEMPLATE},
        "status": {"readyReplicas": 3},
    }
    assert cells("apps", "statefulsets", sts) == ["db", "3/3", "60m", "a,b", "busybox:1,nginx"]
    rev = {
        "metadata": {
            "name": "db-7f",
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "u", "controller": True}
            ],
        },
        "revision": 4,
        "data": {},
    }
    assert cells("apps", "controllerrevisions", rev) == ["db-7f", "statefulset.apps/db", 4, "60m"]
    orphan = {"metadata": {"name": "x"}, "revision": 1, "data": {}}
    assert cells("apps", "controllerrevisions", orphan)[1] == "<none>"


def _job(status: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "pi"},
        "spec": {"template": TEMPLATE, "selector": {"matchLabels": {"u": "1"}}, **spec},
        "status": status,
    }


def test_job_rows() -> None:
    done = _job(
        {
            "startTime": "2026-01-01T00:00:00Z",
            "completionTime": "2026-01-01T00:02:05Z",
            "succeeded": 1,
            "conditions": [
                {"type": "SuccessCriteriaMet", "status": "True"},
                {"type": "Complete", "status": "True"},
            ],
        },
        completions=1,
    )
    assert cells("batch", "jobs", done)[:4] == ["pi", "Complete", "1/1", "2m5s"]
    running = _job({"startTime": "2026-01-01T00:59:30Z", "succeeded": 1}, parallelism=3)
    assert cells("batch", "jobs", running)[:4] == ["pi", "Running", "1/1 of 3", "30s"]
    assert cells("batch", "jobs", _job({}, completions=5))[1:4] == ["Running", "0/5", ""]
    failed = _job({"conditions": [{"type": "Failed", "status": "True"}]}, completions=1)
    assert cells("batch", "jobs", failed)[1] == "Failed"
    suspended = _job({"conditions": [{"type": "Suspended", "status": "True"}]}, completions=1)
    assert cells("batch", "jobs", suspended)[1] == "Suspended"
    deleting = _job({}, completions=1)
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:30:00Z"
    assert cells("batch", "jobs", deleting)[1] == "Terminating"
    assert cells("batch", "jobs", done)[5:] == ["a,b", "busybox:1,nginx", "u=1"]


def test_cron_job_rows() -> None:
    cj = {
        "metadata": {"name": "tick"},
        "spec": {
            "schedule": "*/5 * * * *",
            "suspend": True,
            "timeZone": "Etc/UTC",
            "jobTemplate": {"spec": {"template": TEMPLATE}},
        },
        "status": {"active": [{"name": "tick-1"}], "lastScheduleTime": "2026-01-01T00:55:00Z"},
    }
    assert cells("batch", "cronjobs", cj) == [
        "tick",
        "*/5 * * * *",
        "Etc/UTC",
        "True",
        1,
        "5m",
        "60m",
        "a,b",
        "busybox:1,nginx",
        "<none>",
    ]
    bare = {
        "metadata": {"name": "t"},
        "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {}}}},
    }
    assert cells("batch", "cronjobs", bare)[2:6] == ["<none>", "<unset>", 0, "<none>"]

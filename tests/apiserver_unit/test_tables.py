"""Table output: the real server's columns and the cells kubectl prints, pod Status cases included."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from api.humanize import human_duration
from api.podstatus import pod_status_cells
from api.resources import by_plural
from api.tables import table_columns, to_table

NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
T0 = "2026-01-01T11:55:00Z"  # five minutes before NOW
Obj = dict[str, Any]


def res(plural: str) -> Any:
    r = by_plural("coordination.k8s.io" if plural == "leases" else "", plural)
    assert r is not None
    return r


def cells(plural: str, obj: dict[str, Any]) -> list[Any]:
    return to_table(res(plural), [obj], "7", now=NOW)["rows"][0]["cells"]


def names(plural: str, wide: bool = False) -> list[str]:
    return [c["name"] for c in table_columns(res(plural)) if wide or c["priority"] == 0]


@pytest.mark.parametrize(
    ("plural", "columns", "wide"),
    [
        (
            "pods",
            ["Name", "Ready", "Status", "Restarts", "Age"],
            ["IP", "Node", "Nominated Node", "Readiness Gates"],
        ),
        (
            "replicationcontrollers",
            ["Name", "Desired", "Current", "Ready", "Age"],
            ["Containers", "Images", "Selector"],
        ),
        ("services", ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"], ["Selector"]),
        (
            "nodes",
            ["Name", "Status", "Roles", "Age", "Version"],
            ["Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"],
        ),
        ("namespaces", ["Name", "Status", "Age"], []),
        ("endpoints", ["Name", "Endpoints", "Age"], []),
        (
            "events",
            ["Last Seen", "Type", "Reason", "Object", "Message"],
            ["Subobject", "Source", "First Seen", "Count", "Name"],
        ),
        ("leases", ["Name", "Holder", "Age"], []),
    ],
)
def test_columns(plural: str, columns: list[str], wide: list[str]) -> None:
    assert names(plural) == columns
    assert [n for n in names(plural, wide=True) if n not in columns] == wide
    name_col = next(c for c in table_columns(res(plural)) if c["name"] == "Name")
    assert name_col["format"] == "name"


def test_table_envelope_and_row_objects() -> None:
    pod = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": "a", "namespace": "default", "creationTimestamp": T0},
        "spec": {"containers": [{"name": "c"}]},
    }
    t = to_table(res("pods"), [pod], "42", now=NOW)
    assert (t["kind"], t["apiVersion"], t["metadata"]) == (
        "Table",
        "meta.k8s.io/v1",
        {"resourceVersion": "42"},
    )
    assert t["rows"][0]["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": pod["metadata"],
    }
    assert to_table(res("pods"), [pod], "42", "Object", now=NOW)["rows"][0]["object"] == pod
    assert "object" not in to_table(res("pods"), [pod], "42", "None", now=NOW)["rows"][0]
    assert to_table(res("pods"), [], "42")["rows"] == []


def _pod(status: dict[str, Any], containers: int = 1, init: int = 0, **meta: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "creationTimestamp": T0, **meta},
        "spec": {
            "containers": [{"name": f"c{i}"} for i in range(containers)],
            "initContainers": [{"name": f"i{i}"} for i in range(init)],
        },
        "status": status,
    }


def container(name: str, state: dict[str, Any], ready: bool = False, restarts: int = 0, **extra: Any) -> Obj:
    """A container status in one state (`{"waiting": {...}}`, `{"terminated": {...}}`, `{"running": {...}}`)."""
    return {"name": name, "ready": ready, "restartCount": restarts, "state": state, **extra}


def running(name: str = "c0", ready: bool = True, restarts: int = 0, **extra: Any) -> Obj:
    return container(name, {"running": {"startedAt": T0}}, ready, restarts, **extra)


def waiting(reason: str, name: str = "c0", restarts: int = 0, **extra: Any) -> Obj:
    return container(name, {"waiting": {"reason": reason}}, restarts=restarts, **extra)


def terminated(name: str = "c0", **how: Any) -> Obj:
    return container(name, {"terminated": how})


def _init(*statuses: Obj) -> Obj:
    """A pending pod with one init container per status."""
    return _pod({"phase": "Pending", "initContainerStatuses": list(statuses)}, init=len(statuses))


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        (_pod({"phase": "Pending"}), ("0/1", "Pending", "0")),
        ({}, ("0/0", "", "0")),
        (_pod({"phase": "Running", "containerStatuses": [running()]}), ("1/1", "Running", "0")),
        (
            _pod({"phase": "Pending", "containerStatuses": [waiting("ContainerCreating")]}),
            ("0/1", "ContainerCreating", "0"),
        ),
        (
            _pod(
                {
                    "phase": "Running",
                    "containerStatuses": [
                        waiting(
                            "CrashLoopBackOff",
                            restarts=4,
                            lastState={"terminated": {"exitCode": 1, "finishedAt": "2026-01-01T11:58:00Z"}},
                        )
                    ],
                }
            ),
            ("0/1", "CrashLoopBackOff", "4 (2m ago)"),
        ),
        (
            _pod({"phase": "Succeeded", "containerStatuses": [terminated(exitCode=0, reason="Completed")]}),
            ("0/1", "Completed", "0"),
        ),
        (
            _pod({"phase": "Failed", "containerStatuses": [terminated(exitCode=2)]}),
            ("0/1", "ExitCode:2", "0"),
        ),
        (
            _pod({"phase": "Failed", "containerStatuses": [terminated(exitCode=137, signal=9)]}),
            ("0/1", "Signal:9", "0"),
        ),
        (_init(container("i0", {"running": {}})), ("0/1", "Init:0/1", "0")),
        (_init(terminated("i0", exitCode=0), waiting("PodInitializing", "i1")), ("0/1", "Init:1/2", "0")),
        (_init(waiting("CrashLoopBackOff", "i0", restarts=3)), ("0/1", "Init:CrashLoopBackOff", "3")),
        (_init(terminated("i0", exitCode=1)), ("0/1", "Init:ExitCode:1", "0")),
        (
            _pod({"phase": "Running", "containerStatuses": [running()]}, deletionTimestamp=T0),
            ("1/1", "Terminating", "0"),
        ),
        (_pod({"phase": "Succeeded"}, deletionTimestamp=T0), ("0/1", "Succeeded", "0")),
        (
            _pod(
                {"phase": "Running", "containerStatuses": [running("c0"), running("c1", ready=False)]},
                containers=2,
            ),
            ("1/2", "Running", "0"),
        ),
        (
            _pod(
                {
                    "phase": "Running",
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [running("c0"), terminated("c1", exitCode=0, reason="Completed")],
                },
                containers=2,
            ),
            ("1/2", "Running", "0"),
        ),
        (_pod({"phase": "Pending", "reason": "Evicted"}), ("0/1", "Evicted", "0")),
        (
            _pod(
                {
                    "phase": "Pending",
                    "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
                }
            ),
            ("0/1", "SchedulingGated", "0"),
        ),
    ],
)
def test_pod_status_cells(pod: dict[str, Any], expected: tuple[str, str, str]) -> None:
    assert pod_status_cells(pod, NOW) == expected


def test_pod_row_wide_cells_and_completed_condition() -> None:
    pod = _pod(
        {
            "phase": "Running",
            "podIP": "10.244.1.5",
            "podIPs": [{"ip": "10.244.1.5"}],
            "containerStatuses": [running()],
        }
    )
    pod["spec"]["nodeName"] = "node-1"
    assert cells("pods", pod) == [
        "p",
        "1/1",
        "Running",
        "0",
        "5m",
        "10.244.1.5",
        "node-1",
        "<none>",
        "<none>",
    ]
    done = _pod({"phase": "Succeeded"})
    row = to_table(res("pods"), [done], "1", now=NOW)["rows"][0]
    assert row["conditions"][0]["type"] == "Completed"


def test_rc_cells() -> None:
    rc = {
        "metadata": {"name": "web", "creationTimestamp": T0},
        "spec": {
            "replicas": 3,
            "selector": {"app": "web", "tier": "fe"},
            "template": {
                "spec": {
                    "containers": [{"name": "a", "image": "busybox:1"}, {"name": "b", "image": "busybox:2"}]
                }
            },
        },
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    assert cells("replicationcontrollers", rc) == [
        "web",
        3,
        2,
        1,
        "5m",
        "a,b",
        "busybox:1,busybox:2",
        "app=web,tier=fe",
    ]


@pytest.mark.parametrize(
    ("spec", "status", "expected"),
    [
        (
            {
                "type": "ClusterIP",
                "clusterIP": "10.96.0.10",
                "ports": [{"port": 80, "protocol": "TCP"}],
                "selector": {"app": "web"},
            },
            {},
            ["ClusterIP", "10.96.0.10", "<none>", "80/TCP", "5m", "app=web"],
        ),
        (
            {
                "type": "NodePort",
                "clusterIP": "10.96.0.11",
                "ports": [
                    {"port": 80, "nodePort": 30080, "protocol": "TCP"},
                    {"port": 53, "protocol": "UDP"},
                ],
            },
            {},
            ["NodePort", "10.96.0.11", "<none>", "80:30080/TCP,53/UDP", "5m", "<none>"],
        ),
        (
            {"type": "LoadBalancer", "clusterIP": "10.96.0.12", "ports": [{"port": 80}]},
            {},
            ["LoadBalancer", "10.96.0.12", "<pending>", "80/TCP", "5m", "<none>"],
        ),
        (
            {"type": "LoadBalancer", "clusterIP": "10.96.0.12", "ports": [{"port": 80}]},
            {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}},
            ["LoadBalancer", "10.96.0.12", "192.0.2.1", "80/TCP", "5m", "<none>"],
        ),
        (
            {"type": "ExternalName", "externalName": "example.com"},
            {},
            ["ExternalName", "<none>", "example.com", "<none>", "5m", "<none>"],
        ),
        (
            {"type": "ClusterIP", "clusterIP": "None", "ports": []},
            {},
            ["ClusterIP", "None", "<none>", "<none>", "5m", "<none>"],
        ),
    ],
)
def test_service_cells(spec: dict[str, Any], status: dict[str, Any], expected: list[Any]) -> None:
    svc = {"metadata": {"name": "s", "creationTimestamp": T0}, "spec": spec, "status": status}
    assert cells("services", svc) == ["s", *expected]


def test_node_cells() -> None:
    node = {
        "metadata": {
            "name": "n1",
            "creationTimestamp": T0,
            "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker"},
        },
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "10.0.0.2"}],
            "nodeInfo": {
                "kubeletVersion": "v1.33.0-kubelite",
                "osImage": "Debian GNU/Linux 12",
                "kernelVersion": "6.1.0",
                "containerRuntimeVersion": "kubelite://0.1",
            },
        },
    }
    assert cells("nodes", node) == [
        "n1",
        "Ready,SchedulingDisabled",
        "control-plane,worker",
        "5m",
        "v1.33.0-kubelite",
        "10.0.0.2",
        "<none>",
        "Debian GNU/Linux 12",
        "6.1.0",
        "kubelite://0.1",
    ]
    bare = {"metadata": {"name": "n2", "creationTimestamp": T0}}
    assert cells("nodes", bare)[:3] == ["n2", "Unknown", "<none>"]
    not_ready = {
        "metadata": {"name": "n3"},
        "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]},
    }
    assert cells("nodes", not_ready)[1] == "NotReady"


def test_namespace_endpoints_lease_cells() -> None:
    assert cells(
        "namespaces",
        {"metadata": {"name": "default", "creationTimestamp": T0}, "status": {"phase": "Active"}},
    ) == ["default", "Active", "5m"]
    ep = {
        "metadata": {"name": "web", "creationTimestamp": T0},
        "subsets": [{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 6)], "ports": [{"port": 80}]}],
    }
    assert cells("endpoints", ep) == ["web", "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...", "5m"]
    assert cells("endpoints", {"metadata": {"name": "e"}})[1] == "<none>"
    lease = {"metadata": {"name": "n1", "creationTimestamp": T0}, "spec": {"holderIdentity": "n1"}}
    assert cells("leases", lease) == ["n1", "n1", "5m"]


def test_event_cells() -> None:
    ev = {
        "metadata": {"name": "p.1"},
        "involvedObject": {"kind": "Pod", "name": "p", "fieldPath": "spec.containers{c}"},
        "reason": "Pulled",
        "message": "pulled\n",
        "type": "Normal",
        "source": {"component": "kubelet", "host": "n1"},
        "firstTimestamp": "2026-01-01T11:50:00Z",
        "lastTimestamp": T0,
        "count": 3,
    }
    assert cells("events", ev) == [
        "5m",
        "Normal",
        "Pulled",
        "pod/p",
        "spec.containers{c}",
        "kubelet, n1",
        "pulled",
        "10m",
        3,
        "p.1",
    ]
    new_style = {
        "metadata": {"name": "e"},
        "involvedObject": {"kind": "Node", "name": "n1"},
        "reason": "Ready",
        "eventTime": "2026-01-01T11:59:00.123456Z",
        "reportingComponent": "kubelet",
        "reportingInstance": "n1",
        "series": {"count": 4, "lastObservedTime": "2026-01-01T11:59:30.000000Z"},
    }
    assert cells("events", new_style) == ["30s", "", "Ready", "node/n1", "", "kubelet, n1", "", "59s", 4, "e"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (45, "45s"),
        (119, "119s"),
        (120, "2m"),
        (303, "5m3s"),
        (600, "10m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 1200, "3h20m"),
        (10 * 3600, "10h"),
        (50 * 3600, "2d2h"),
        (48 * 3600, "2d"),
        (30 * 86400, "30d"),
        (800 * 86400, "2y70d"),
        (3000 * 86400, "8y"),
    ],
)
def test_human_duration(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text

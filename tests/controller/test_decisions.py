"""Pure decisions of endpoints, node lifecycle, IPAM, GC and option parsing."""

from __future__ import annotations

from typing import Any

import pytest

from controller import endpoints, gc, ipam, nodelifecycle, podgc
from controller.nodelifecycle import Health, decide, observe
from controller.options import ControllerOptions, SchedulerOptions, coerce, parse_duration


def test_parse_duration() -> None:
    assert parse_duration("4") == 4.0 and parse_duration("4s") == 4.0 and parse_duration("5m") == 300.0
    assert parse_duration("1h30m") == 5400.0 and parse_duration("250ms") == 0.25 and parse_duration(2) == 2.0
    for bad in ("", "4x", "-1", "s", "4 s"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_options_from_the_servers_dict() -> None:
    o = coerce(
        ControllerOptions,
        {
            "node_monitor_grace_period": "4s",
            "pod_eviction_timeout": 10,
            "cluster_cidr": "10.9.0.0/16",
            "service_cidr": "ignored",
            "data_dir": "/d",
        },
    )
    assert (o.node_monitor_grace_period, o.pod_eviction_timeout, o.cluster_cidr) == (4.0, 10.0, "10.9.0.0/16")
    assert o.identity == coerce(ControllerOptions, {"data_dir": "/d"}).identity  # stable across restarts
    assert coerce(SchedulerOptions, None).leader_elect is True


def pod(name: str, ip: str | None, ready: bool, port: int = 8080, deleting: bool = False) -> dict[str, Any]:
    m: dict[str, Any] = {"name": name, "namespace": "ns", "uid": f"u-{name}"}
    if deleting:
        m["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    st: dict[str, Any] = {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if ip:
        st["podIP"] = ip
    return {
        "metadata": m,
        "spec": {
            "nodeName": "n1",
            "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": port}]}],
        },
        "status": st,
    }


def test_endpoint_subsets() -> None:
    svc = {"spec": {"ports": [{"name": "web", "port": 80, "targetPort": "http"}]}}
    subsets = endpoints.subsets(
        svc,
        [
            pod("a", "10.0.0.2", True),
            pod("b", "10.0.0.1", False),
            pod("c", None, True),
            pod("d", "10.0.0.4", True, deleting=True),
            pod("e", "10.0.0.5", True, port=9090),
        ],
    )
    assert [
        (
            s["ports"],
            [a["ip"] for a in s.get("addresses", [])],
            [a["ip"] for a in s.get("notReadyAddresses", [])],
        )
        for s in subsets
    ] == [
        ([{"port": 8080, "protocol": "TCP", "name": "web"}], ["10.0.0.2"], ["10.0.0.1"]),
        ([{"port": 9090, "protocol": "TCP", "name": "web"}], ["10.0.0.5"], []),
    ]
    a = subsets[0]["addresses"][0]
    assert a["nodeName"] == "n1" and a["targetRef"] == {
        "kind": "Pod",
        "namespace": "ns",
        "name": "a",
        "uid": "u-a",
    }
    publish = {"spec": {"publishNotReadyAddresses": True, "ports": svc["spec"]["ports"]}}
    assert len(endpoints.subsets(publish, [pod("b", "10.0.0.1", False)])[0]["addresses"]) == 1
    numeric = {"spec": {"ports": [{"port": 80, "targetPort": 8000}]}}
    assert endpoints.subsets(numeric, [pod("a", "10.0.0.2", True)])[0]["ports"] == [
        {"port": 8000, "protocol": "TCP"}
    ]
    assert endpoints.resolve_port({"port": 80}, pod("a", "1.1.1.1", True)) == 80
    assert endpoints.resolve_port({"port": 80, "targetPort": "nope"}, pod("a", "1.1.1.1", True)) is None


def test_ipam_next_free_never_reuses() -> None:
    used = ipam.used_cidrs(
        [{"spec": {"podCIDR": "10.244.0.0/24"}}, {"spec": {"podCIDRs": ["10.244.1.0/24"]}}, {}]
    )
    assert used == {"10.244.0.0/24", "10.244.1.0/24"}
    assert ipam.next_free("10.244.0.0/16", 24, used) == "10.244.2.0/24"
    assert ipam.next_free("10.244.0.0/23", 24, used) is None
    assert ipam.next_free("10.244.0.0/16", 24, {"10.244.0.0/23"}) == "10.244.2.0/24"


def node(ready: str = "True", taints: list[dict[str, Any]] | None = None, hb: str = "t0") -> dict[str, Any]:
    return {
        "metadata": {"name": "n"},
        "spec": {"taints": taints or []},
        "status": {"conditions": [{"type": "Ready", "status": ready, "lastHeartbeatTime": hb}]},
    }


def test_node_lifecycle_decisions() -> None:
    h = observe(None, node(), None, now=0.0)
    assert decide(node(), h, 30.0, grace=40) == nodelifecycle.Decision()
    # a renewed lease keeps the node alive even if its status is old
    h = observe(h, node(), {"spec": {"renewTime": "r1"}}, now=30.0)
    assert h.probe_time == 30.0
    d = decide(node(), h, 71.0, grace=40)
    assert d.mark_unknown and d.taints == [nodelifecycle.UNREACHABLE] and d.pods_not_ready
    unreachable = [{"key": nodelifecycle.UNREACHABLE, "effect": "NoExecute"}]
    d = decide(node("Unknown", unreachable), h, 372.0, grace=40)
    assert d.taints is None
    # heartbeats come back and the kubelet reports Ready: the taint goes
    h = observe(h, node("True", unreachable, hb="t9"), None, now=400.0)
    d = decide(node("True", unreachable, hb="t9"), h, 401.0, grace=40)
    assert d.taints == []
    # a kubelet reporting NotReady gets the not-ready taint
    h = observe(h, node("False", hb="t10"), None, now=402.0)
    assert decide(node("False", hb="t10"), h, 403.0, grace=40).taints == [nodelifecycle.NOT_READY]
    # a node that never reported is left alone until it goes stale
    fresh = {"metadata": {"name": "f"}, "spec": {}, "status": {}}
    assert decide(fresh, observe(None, fresh, None, 0.0), 1.0, grace=40).taints is None
    conds = nodelifecycle.unknown_conditions(node(), "now")
    assert conds[0]["status"] == "Unknown" and conds[0]["reason"] == "NodeStatusUnknown"
    assert conds[0]["lastHeartbeatTime"] == "t0"
    assert isinstance(Health(("x",), 0.0), Health)


def test_taint_eviction_follows_each_pods_tolerations() -> None:
    unreachable = {"key": nodelifecycle.UNREACHABLE, "effect": "NoExecute"}
    maintenance = {"key": "example.com/maintenance", "value": "true", "effect": "NoExecute"}

    def pod(*tolerations: dict) -> dict:
        return {"spec": {"tolerations": list(tolerations)}}

    def tol(key: str, seconds: int | None = None) -> dict:
        t = {"key": key, "operator": "Exists", "effect": "NoExecute"}
        return t if seconds is None else {**t, "tolerationSeconds": seconds}

    left = nodelifecycle.toleration_left
    since = {nodelifecycle.UNREACHABLE: 100.0, "example.com/maintenance": 110.0}
    admitted = pod(tol(nodelifecycle.NOT_READY, 300), tol(nodelifecycle.UNREACHABLE, 300))
    assert left(admitted, [unreachable], since, 105.0, 8.0) == 3.0  # the default reads as the flag
    assert left(admitted, [unreachable], since, 108.0, 300.0) == 292.0
    assert left(pod(tol(nodelifecycle.UNREACHABLE, 30)), [unreachable], since, 105.0, 8.0) == 25.0
    assert left(pod(tol(nodelifecycle.UNREACHABLE)), [unreachable], since, 1e9, 8.0) is None  # DaemonSet pods
    assert left(admitted, [unreachable, maintenance], since, 105.0, 8.0) == 0.0  # untolerated: now
    both = pod(tol(nodelifecycle.UNREACHABLE, 60), tol("example.com/maintenance", 20))
    assert left(both, [unreachable, maintenance], since, 115.0, 8.0) == 15.0  # the shortest, from its taint
    assert left(pod({"operator": "Exists"}), [unreachable, maintenance], since, 1e9, 8.0) is None
    # a user's own 300 s on another taint is theirs, not the default the flag stands for
    assert left(pod(tol("example.com/maintenance", 300)), [maintenance], since, 115.0, 8.0) == 295.0


def test_gc_decisions() -> None:
    a, b = {"uid": "a"}, {"uid": "b"}
    assert gc.absent_owners([a, b], {"a": True, "b": False}) == [b]
    assert gc.dependent_action([a, b], [a, b], False) == "delete"
    assert gc.dependent_action([a, b], [b], False) == "drop-refs"
    assert gc.dependent_action([a], [], False) == "keep"
    assert gc.dependent_action([a], [], True) == "delete"
    assert gc.dependent_action([], [], False) == "keep"


def test_podgc_waits_out_the_quarantine() -> None:
    pods = [
        {"metadata": {"name": "a"}, "spec": {"nodeName": "gone"}},
        {"metadata": {"name": "b"}, "spec": {"nodeName": "here"}},
        {"metadata": {"name": "c"}, "spec": {}},
    ]
    since: dict[str, float] = {}
    assert podgc.orphaned(pods, {"here"}, since, 0.0, 40) == []
    assert [p["metadata"]["name"] for p in podgc.orphaned(pods, {"here"}, since, 41.0, 40)] == ["a"]
    assert podgc.orphaned(pods, {"here", "gone"}, since, 50.0, 40) == [] and since == {}

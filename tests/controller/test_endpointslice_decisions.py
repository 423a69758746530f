"""The EndpointSlice controller's pure decisions: which endpoints a service wants, with kube's
ready/serving/terminating conditions, and how they are spread over slices of at most N."""

from __future__ import annotations

from typing import Any

from controller.endpointslice_decisions import (
    CONTROLLER_NAME,
    MANAGED_BY_LABEL,
    MIRRORING_NAME,
    SERVICE_NAME_LABEL,
    mirrored_endpoints,
    plan,
    pod_endpoints,
)

Obj = dict[str, Any]
SVC: Obj = {
    "metadata": {"name": "web", "namespace": "ns", "uid": "svc-uid", "labels": {"app": "web"}},
    "spec": {
        "selector": {"app": "web"},
        "clusterIP": "10.96.0.5",
        "ports": [{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}],
    },
}


def pod(
    name: str,
    ip: str,
    ready: bool = True,
    port: int = 8080,
    deleting: bool = False,
    phase: str = "Running",
    node: str = "n1",
) -> Obj:
    meta: Obj = {"name": name, "namespace": "ns", "uid": f"uid-{name}", "labels": {"app": "web"}}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": meta,
        "spec": {
            "nodeName": node,
            "containers": [{"name": "c", "ports": [{"name": "web", "containerPort": port}]}],
        },
        "status": {
            "phase": phase,
            "podIP": ip,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def test_conditions_follow_readiness_and_termination() -> None:
    groups = pod_endpoints(
        SVC,
        [
            pod("a", "10.244.0.2"),
            pod("b", "10.244.0.3", ready=False),
            pod("c", "10.244.0.4", deleting=True),
            pod("d", "10.244.0.5", phase="Succeeded"),
            pod("e", ""),
        ],
    )
    [(ports, eps)] = groups.values()
    assert ports == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    by_name = {ep["targetRef"]["name"]: ep for ep in eps}
    assert set(by_name) == {"a", "b", "c"}  # finished and IP-less pods are left out
    assert by_name["a"]["conditions"] == {"ready": True, "serving": True, "terminating": False}
    assert by_name["b"]["conditions"] == {"ready": False, "serving": False, "terminating": False}
    assert by_name["c"]["conditions"] == {"ready": False, "serving": True, "terminating": True}
    assert by_name["a"]["nodeName"] == "n1" and by_name["a"]["targetRef"]["uid"] == "uid-a"


def test_named_target_port_resolving_differently_makes_two_port_groups() -> None:
    groups = pod_endpoints(SVC, [pod("a", "10.244.0.2"), pod("b", "10.244.0.3", port=9090)])
    assert sorted(ports[0]["port"] for ports, _ in groups.values()) == [8080, 9090]


def test_slices_hold_at_most_max_endpoints_and_are_owned_by_the_service() -> None:
    pods = [pod(f"p{i:03}", f"10.244.1.{i}") for i in range(1, 251)]
    p = plan(SVC, pod_endpoints(SVC, pods), [], max_endpoints=100)
    assert [len(s["endpoints"]) for s in p.create] == [100, 100, 50]
    s = p.create[0]
    assert s["metadata"]["generateName"] == "web-"
    assert s["metadata"]["labels"] == {
        "app": "web",
        SERVICE_NAME_LABEL: "web",
        MANAGED_BY_LABEL: CONTROLLER_NAME,
    }
    assert s["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "name": "web",
            "uid": "svc-uid",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert s["addressType"] == "IPv4" and not p.update and not p.delete


def _existing(p_create: list[Obj]) -> list[Obj]:
    return [
        {**s, "metadata": {**s["metadata"], "name": f"web-{i}", "resourceVersion": "1"}}
        for i, s in enumerate(p_create)
    ]


def test_endpoints_stay_in_their_slice_and_new_ones_fill_room() -> None:
    pods = [pod(f"p{i:03}", f"10.244.1.{i}") for i in range(1, 151)]
    existing = _existing(plan(SVC, pod_endpoints(SVC, pods), [], max_endpoints=100).create)
    # nothing changed: nothing to write
    again = plan(SVC, pod_endpoints(SVC, pods), existing, max_endpoints=100)
    assert (again.create, again.update, again.delete) == ([], [], [])
    # remove one from the first slice, add two: the first gets one back, the second the other
    pods = [p for p in pods if p["metadata"]["name"] != "p001"] + [
        pod("q1", "10.244.2.1"),
        pod("q2", "10.244.2.2"),
    ]
    p = plan(SVC, pod_endpoints(SVC, pods), existing, max_endpoints=100)
    assert not p.create and not p.delete
    sizes = {s["metadata"]["name"]: len(s["endpoints"]) for s in p.update}
    assert sizes == {"web-0": 100, "web-1": 51}
    # a pod turning unready changes only its own slice
    pods2 = [pod(f"p{i:03}", f"10.244.1.{i}", ready=i != 120) for i in range(1, 151)]
    p = plan(SVC, pod_endpoints(SVC, pods2), existing, max_endpoints=100)
    assert [s["metadata"]["name"] for s in p.update] == ["web-1"]


def test_no_endpoints_leaves_one_placeholder_and_empty_slices_go() -> None:
    p = plan(SVC, {}, [])
    assert len(p.create) == 1 and p.create[0]["endpoints"] == [] and p.create[0]["ports"] == []
    existing = _existing(plan(SVC, pod_endpoints(SVC, [pod("a", "10.244.0.2")]), []).create)
    placeholder = _existing(p.create)[0] | {"metadata": {**p.create[0]["metadata"], "name": "web-ph"}}
    p = plan(SVC, {}, [*existing, placeholder])
    assert p.delete == ["web-0"] and not p.create
    p = plan(SVC, pod_endpoints(SVC, [pod("a", "10.244.0.2")]), [*existing, placeholder])
    assert p.delete == ["web-ph"] and not p.create and not p.update


def test_mirroring_copies_hand_made_endpoints_without_owner() -> None:
    svc = {"metadata": {"name": "ext", "namespace": "ns", "uid": "u"}, "spec": {"ports": [{"port": 80}]}}
    eps = {
        "metadata": {"name": "ext", "namespace": "ns"},
        "subsets": [
            {
                "addresses": [{"ip": "192.0.2.1"}],
                "notReadyAddresses": [{"ip": "192.0.2.2"}],
                "ports": [{"port": 8080}],
            }
        ],
    }
    p = plan(svc, mirrored_endpoints(eps), [], MIRRORING_NAME)
    [s] = p.create
    assert "ownerReferences" not in s["metadata"]
    assert s["metadata"]["labels"][MANAGED_BY_LABEL] == MIRRORING_NAME
    assert s["ports"] == [{"name": "", "port": 8080, "protocol": "TCP"}]
    assert [(e["addresses"], e["conditions"]["ready"]) for e in s["endpoints"]] == [
        (["192.0.2.1"], True),
        (["192.0.2.2"], False),
    ]
    assert plan(svc, {}, [], MIRRORING_NAME).create == []  # no placeholder for mirrored services

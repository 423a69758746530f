"""The core kinds with a few rules each, as kube-apiserver validates them: ReplicationController,
Endpoints, Event, Lease, Node (podCIDR set once), and the Binding and Scale bodies.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from api import names
from apiserver.validation import validate_binding, validate_scale
from tests.apiserver_unit.validation_cases import (
    Case,
    Causes,
    Obj,
    check_rule,
    forbidden,
    inv,
    req,
    rules,
    setp,
    status,
    stored,
    unsupported,
)

CASES: list[Case] = [
    (
        "rc-replicas",
        "replicationcontrollers",
        setp("spec.replicas", -1),
        [inv("spec.replicas", "-1", "must be greater than or equal to 0")],
    ),
    (
        "rc-selector-mismatch",
        "replicationcontrollers",
        setp("spec.selector", {"app": "db"}),
        [
            inv(
                "spec.template.metadata.labels",
                'map[string]string{"app":"web"}',
                "`selector` does not match template `labels`",
            )
        ],
    ),
    (
        "rc-selector-required",
        "replicationcontrollers",
        setp("spec.template.metadata.labels", None),
        [req("spec.selector")],
    ),
    (
        "rc-template-required",
        "replicationcontrollers",
        lambda o: o["spec"].update(template=None, selector={"app": "web"}),
        [req("spec.template")],
    ),
    (
        "rc-restart-policy",
        "replicationcontrollers",
        setp("spec.template.spec.restartPolicy", "Never"),
        [unsupported("spec.template.spec.restartPolicy", '"Never"', '"Always"')],
    ),
    (
        "rc-template-image-optional",
        "replicationcontrollers",
        setp("spec.template.spec.containers.0.image", None),
        [],
    ),
    (
        "endpoints-ip",
        "endpoints",
        setp("subsets.0.addresses.0.ip", "nope"),
        [inv("subsets[0].addresses[0].ip", '"nope"', names.IP_MSG)],
    ),
    (
        "event-namespace",
        "events",
        setp("involvedObject.namespace", "other"),
        [inv("involvedObject.namespace", '"other"', "does not match event.namespace")],
    ),
    (
        "lease-duration",
        "leases",
        setp("spec.leaseDurationSeconds", 0),
        [inv("spec.leaseDurationSeconds", "0", "must be greater than 0")],
    ),
    (
        "node-pod-cidr",
        "nodes",
        setp("spec.podCIDRs", ["10.244.1.0/33"]),
        [inv("spec.podCIDRs[0]", '"10.244.1.0/33"', names.CIDR_MSG)],
    ),
    (
        "node-taint-effect",
        "nodes",
        setp("spec.taints", [{"key": "a", "effect": "Never"}]),
        [unsupported("spec.taints[0].effect", '"Never"', '"NoExecute", "NoSchedule", "PreferNoSchedule"')],
    ),
]


@rules(CASES)
def test_rule(plural: str, mutate: Callable[[Obj], object], causes: Causes) -> None:
    check_rule(plural, mutate, causes)


def test_node_pod_cidr_may_only_be_set_once() -> None:
    old = stored("nodes")
    old["spec"] = {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]}
    new = copy.deepcopy(old)
    new["spec"] = {"podCIDR": "10.244.2.0/24", "podCIDRs": ["10.244.2.0/24"]}
    got = status("nodes", new, old)
    assert got is not None
    assert got["details"]["causes"] == [
        forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid')
    ]


def test_binding_and_scale_bodies() -> None:
    assert validate_binding({"target": {"kind": "Node", "name": "n1"}}) == []
    assert validate_binding({"target": {}}) == [req("target.name")]
    assert validate_binding({"target": {"kind": "Pod", "name": "x"}}) == [
        unsupported("target.kind", '"Pod"', '"Node", "<empty>"')
    ]
    assert validate_scale({"spec": {"replicas": -2}}) == [
        inv("spec.replicas", "-2", "must be greater than or equal to 0")
    ]

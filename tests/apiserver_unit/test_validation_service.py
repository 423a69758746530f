"""A Service's spec as kube-apiserver validates it: ports, types, node ports, clusterIP (and its
immutability), externalName, with the exact 422 causes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from api import names
from tests.apiserver_unit.validation_cases import (
    PORTS,
    Case,
    Causes,
    Obj,
    check_rule,
    dup,
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
    ("svc-ports-required", "services", setp("spec.ports", []), [req("spec.ports")]),
    ("svc-headless-no-ports", "services", lambda o: o["spec"].update(ports=[], clusterIP="None"), []),
    ("svc-port-range", "services", setp("spec.ports.0.port", 0), [inv("spec.ports[0].port", "0", PORTS)]),
    (
        "svc-port-names-required",
        "services",
        setp("spec.ports", [{"port": 80, "name": "http"}, {"port": 81}]),
        [req("spec.ports[1].name")],
    ),
    (
        "svc-port-names-unique",
        "services",
        setp("spec.ports", [{"port": 80, "name": "http"}, {"port": 81, "name": "http"}]),
        [dup("spec.ports[1].name", '"http"')],
    ),
    (
        "svc-type",
        "services",
        setp("spec.type", "Internal"),
        [unsupported("spec.type", '"Internal"', '"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"')],
    ),
    (
        "svc-node-port-range",
        "services",
        lambda o: o["spec"].update(type="NodePort", ports=[{"port": 80, "nodePort": 80}]),
        [
            inv(
                "spec.ports[0].nodePort",
                "80",
                "provided port is not in the valid range. The range of valid ports is 30000-32767",
            )
        ],
    ),
    (
        "svc-node-port-on-cluster-ip",
        "services",
        setp("spec.ports", [{"port": 80, "nodePort": 30080}]),
        [forbidden("spec.ports[0].nodePort", "may not be used when `type` is 'ClusterIP'")],
    ),
    (
        "svc-external-name-required",
        "services",
        lambda o: o["spec"].update(type="ExternalName", ports=[]),
        [req("spec.externalName")],
    ),
    (
        "svc-cluster-ip",
        "services",
        setp("spec.clusterIP", "10.0.0.300"),
        [inv("spec.clusterIPs[0]", '"10.0.0.300"', names.IP_MSG)],
    ),
    (
        "svc-target-port",
        "services",
        setp("spec.ports.0.targetPort", 70000),
        [inv("spec.ports[0].targetPort", "70000", PORTS)],
    ),
]


@rules(CASES)
def test_rule(plural: str, mutate: Callable[[Obj], object], causes: Causes) -> None:
    check_rule(plural, mutate, causes)


def test_service_cluster_ip_is_immutable() -> None:
    old = stored("services")
    old["spec"]["clusterIP"] = "10.96.0.10"
    old["spec"]["clusterIPs"] = ["10.96.0.10"]
    new = copy.deepcopy(old)
    new["spec"]["clusterIP"] = "10.96.0.11"
    new["spec"]["clusterIPs"] = ["10.96.0.11"]
    got = status("services", new, old)
    assert got is not None
    assert got["details"]["causes"] == [inv("spec.clusterIPs[0]", '"10.96.0.11"', "may not change once set")]

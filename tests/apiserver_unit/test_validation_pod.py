"""A Pod's spec as kube-apiserver validates it (containers, ports, resources, probes, policies,
sidecars, scheduling gates), on create, update and status update, with its exact 422 causes.
Its volumes and mounts are in test_validation_pod_volumes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from api import names
from api.errors import ApiError
from api.resources import by_plural
from apiserver import lifecycle
from apiserver.logic import validate_status_update
from tests.apiserver_unit.validation_cases import (
    BASE,
    LABEL,
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
    ("containers-required", "pods", setp("spec.containers", []), [req("spec.containers")]),
    (
        "container-name-required",
        "pods",
        setp("spec.containers.0.name", None),
        [req("spec.containers[0].name")],
    ),
    (
        "container-name-label",
        "pods",
        setp("spec.containers.0.name", "Web"),
        [inv("spec.containers[0].name", '"Web"', LABEL)],
    ),
    (
        "container-name-unique",
        "pods",
        lambda o: o["spec"]["containers"].append({"name": "web", "image": "busybox"}),
        [dup("spec.containers[1].name", '"web"')],
    ),
    ("image-required", "pods", setp("spec.containers.0.image", None), [req("spec.containers[0].image")]),
    (
        "restart-policy",
        "pods",
        setp("spec.restartPolicy", "Sometimes"),
        [unsupported("spec.restartPolicy", '"Sometimes"', '"Always", "OnFailure", "Never"')],
    ),
    (
        "dns-policy",
        "pods",
        setp("spec.dnsPolicy", "Cluster"),
        [
            unsupported(
                "spec.dnsPolicy", '"Cluster"', '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"'
            )
        ],
    ),
    (
        "pull-policy",
        "pods",
        setp("spec.containers.0.imagePullPolicy", "Sometimes"),
        [
            unsupported(
                "spec.containers[0].imagePullPolicy", '"Sometimes"', '"Always", "IfNotPresent", "Never"'
            )
        ],
    ),
    (
        "container-port-range",
        "pods",
        setp("spec.containers.0.ports", [{"containerPort": 70000}]),
        [inv("spec.containers[0].ports[0].containerPort", "70000", PORTS)],
    ),
    (
        "container-port-required",
        "pods",
        setp("spec.containers.0.ports", [{"name": "http"}]),
        [req("spec.containers[0].ports[0].containerPort")],
    ),
    (
        "protocol",
        "pods",
        setp("spec.containers.0.ports", [{"containerPort": 80, "protocol": "HTTP"}]),
        [unsupported("spec.containers[0].ports[0].protocol", '"HTTP"', '"SCTP", "TCP", "UDP"')],
    ),
    (
        "port-name-unique",
        "pods",
        setp(
            "spec.containers.0.ports",
            [{"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"}],
        ),
        [dup("spec.containers[0].ports[1].name", '"http"')],
    ),
    (
        "port-name-iana",
        "pods",
        setp("spec.containers.0.ports", [{"containerPort": 80, "name": "Http"}]),
        [
            inv(
                "spec.containers[0].ports[0].name",
                '"Http"',
                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            )
        ],
    ),
    (
        "host-port-clash",
        "pods",
        lambda o: o["spec"]["containers"][0].update(
            ports=[{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81, "hostPort": 8080}]
        ),
        [dup("spec.containers[0].ports[1].hostPort", '"8080/TCP"')],
    ),
    (
        "host-network-host-port",
        "pods",
        lambda o: (
            o["spec"].update(hostNetwork=True),
            o["spec"]["containers"][0].update(ports=[{"containerPort": 80, "hostPort": 8080}]),
        ),
        [
            inv(
                "spec.containers[0].ports[0].hostPort",
                "8080",
                "must match `containerPort` when `hostNetwork` is true",
            )
        ],
    ),
    (
        "node-selector",
        "pods",
        setp("spec.nodeSelector", {"disk": "fast ssd"}),
        [inv("spec.nodeSelector", '"fast ssd"', names.LABEL_VALUE_MSG)],
    ),
    (
        "resource-quantity",
        "pods",
        setp("spec.containers.0.resources", {"limits": {"cpu": "lots"}}),
        [
            inv(
                "spec.containers[0].resources.limits[cpu]",
                '"lots"',
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            ),
            inv(
                "spec.containers[0].resources.requests[cpu]",
                '"lots"',
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            ),
        ],
    ),
    (
        "resource-negative",
        "pods",
        setp("spec.containers.0.resources", {"requests": {"memory": "-1Mi"}}),
        [
            inv(
                "spec.containers[0].resources.requests[memory]",
                '"-1Mi"',
                "must be greater than or equal to 0",
            )
        ],
    ),
    (
        "requests-over-limits",
        "pods",
        setp("spec.containers.0.resources", {"limits": {"cpu": "500m"}, "requests": {"cpu": "1"}}),
        [
            inv(
                "spec.containers[0].resources.requests",
                '"1"',
                "must be less than or equal to cpu limit of 500m",
            )
        ],
    ),
    (
        "probe-no-handler",
        "pods",
        setp("spec.containers.0.livenessProbe", {"periodSeconds": 5}),
        [req("spec.containers[0].livenessProbe", "must specify a handler type")],
    ),
    (
        "probe-two-handlers",
        "pods",
        setp("spec.containers.0.readinessProbe", {"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}}),
        [
            forbidden(
                "spec.containers[0].readinessProbe.tcpSocket", "may not specify more than 1 handler type"
            )
        ],
    ),
    (
        "probe-port",
        "pods",
        setp("spec.containers.0.readinessProbe", {"httpGet": {"port": 0}}),
        [inv("spec.containers[0].readinessProbe.httpGet.port", "0", PORTS)],
    ),
    (
        "liveness-success-threshold",
        "pods",
        setp("spec.containers.0.livenessProbe", {"exec": {"command": ["true"]}, "successThreshold": 2}),
        [inv("spec.containers[0].livenessProbe.successThreshold", "2", "must be 1")],
    ),
    ("shared-pid-namespace-accepted", "pods", setp("spec.shareProcessNamespace", True), []),
    (
        "ephemeral-refused-and-shared-pid-with-host-pid",
        "pods",
        lambda o: o["spec"].update(
            ephemeralContainers=[{"name": "debug", "image": "busybox"}],
            shareProcessNamespace=True,
            hostPID=True,
        ),
        [  # kube's ValidatePodCreate: the spec's causes, then the ephemeral containers'
            inv(
                "spec.securityContext.shareProcessNamespace",
                "true",
                "ShareProcessNamespace and HostPID cannot both be enabled",
            ),
            forbidden("spec.ephemeralContainers", "cannot be set on create"),
        ],
    ),
    (
        "pod-os-name",
        "pods",
        setp("spec.os", {"name": "plan9"}),
        [unsupported("spec.os.name", '"plan9"', '"linux", "windows"')],
    ),
    (
        "init-sidecar-may-have-probes",
        "pods",
        setp(
            "spec.initContainers",
            [
                {
                    "name": "proxy",
                    "image": "envoy",
                    "restartPolicy": "Always",
                    "readinessProbe": {"tcpSocket": {"port": 15021}},
                }
            ],
        ),
        [],
    ),
    (
        "init-restart-policy-only-always",
        "pods",
        setp("spec.initContainers", [{"name": "proxy", "image": "envoy", "restartPolicy": "Never"}]),
        [unsupported("spec.initContainers[0].restartPolicy", '"Never"', '"Always"')],
    ),
    (
        "grace-negative",
        "pods",
        setp("spec.terminationGracePeriodSeconds", -1),
        [inv("spec.terminationGracePeriodSeconds", "-1", "must be greater than or equal to 0")],
    ),
]


@rules(CASES)
def test_rule(plural: str, mutate: Callable[[Obj], object], causes: Causes) -> None:
    check_rule(plural, mutate, causes)


def test_pod_update_may_change_image_and_add_tolerations() -> None:
    old = stored("pods")
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "busybox:1.37"
    new["spec"]["tolerations"].append({"key": "x", "operator": "Exists"})
    new["spec"]["activeDeadlineSeconds"] = 60
    assert status("pods", new, old) is None


def test_pod_update_may_not_change_other_fields() -> None:
    old = stored("pods")
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["command"] = ["sh"]
    got = status("pods", new, old)
    assert got is not None
    (cause,) = got["details"]["causes"]
    assert cause["field"] == "spec" and cause["reason"] == "FieldValueForbidden"
    assert cause["message"].startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`"
    )


def test_status_update_checks_pod_ips() -> None:
    r = by_plural("", "pods")
    assert r is not None
    old = stored("pods")
    new = copy.deepcopy(old)
    new["status"]["podIPs"] = [{"ip": "10.244.1.x"}]
    assert validate_status_update(r, new, old) == [inv("status.podIPs[0].ip", '"10.244.1.x"', names.IP_MSG)]
    new["status"]["podIPs"] = [{"ip": "10.244.1.5"}]
    assert validate_status_update(r, new, old) == []


def gated(*names: str) -> Obj:
    obj = stored("pods")
    obj["spec"]["schedulingGates"] = [{"name": n} for n in names]
    return obj


def test_a_gated_pod_is_created_with_podscheduled_false_schedulinggated() -> None:
    r = by_plural("", "pods")
    assert r is not None
    obj = BASE["pods"]()
    obj["spec"]["schedulingGates"] = [{"name": "example.com/quota"}]
    lifecycle.prepare_for_create(r, obj, "2026-01-01T00:00:00Z", "u-1")
    assert obj["status"]["conditions"] == [
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": "SchedulingGated",
            "message": "Scheduling is blocked due to non-empty scheduling gates",
            "lastProbeTime": None,
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
    ]
    plain = BASE["pods"]()
    lifecycle.prepare_for_create(r, plain, "2026-01-01T00:00:00Z", "u-2")
    assert "conditions" not in plain["status"]


def test_scheduling_gates_are_qualified_names_once_and_not_on_a_bound_pod() -> None:
    obj = gated("example.com/quota", "bad name", "example.com/quota")
    obj["spec"]["nodeName"] = "n1"
    got = status("pods", obj)
    assert got is not None
    causes = got["details"]["causes"]
    assert [c["field"] for c in causes] == [
        "spec.schedulingGates[1].name",
        "spec.schedulingGates[2].name",
        "spec.nodeName",
    ]
    assert causes[1] == dup("spec.schedulingGates[2].name", '"example.com/quota"')
    assert causes[2] == forbidden(
        "spec.nodeName", "cannot be set until all schedulingGates have been cleared"
    )


def test_scheduling_gates_may_be_removed_but_not_added() -> None:
    old = gated("example.com/a", "example.com/b")
    fewer = copy.deepcopy(old)
    fewer["spec"]["schedulingGates"] = [{"name": "example.com/b"}]
    assert status("pods", fewer, old) is None
    none = copy.deepcopy(old)
    del none["spec"]["schedulingGates"]
    assert status("pods", none, old) is None
    more = copy.deepcopy(old)
    more["spec"]["schedulingGates"].append({"name": "example.com/c"})
    got = status("pods", more, old)
    assert got is not None and got["details"]["causes"] == [
        forbidden(
            "spec.schedulingGates", "only deletion is allowed, but found new scheduling gate 'example.com/c'"
        )
    ]
    plain = stored("pods")
    added = copy.deepcopy(plain)
    added["spec"]["schedulingGates"] = [{"name": "example.com/a"}]
    got = status("pods", added, plain)
    assert got is not None and [c["field"] for c in got["details"]["causes"]] == ["spec.schedulingGates"]


def test_a_gated_pod_cannot_be_bound() -> None:
    with pytest.raises(ApiError) as e:
        lifecycle.bind_pod(gated("example.com/a"), {"target": {"name": "n1"}}, "2026-01-01T00:00:00Z")
    assert e.value.code == 409 and "pod web has non-empty .spec.schedulingGates" in str(e.value)
    bound = lifecycle.bind_pod(stored("pods"), {"target": {"name": "n1"}}, "2026-01-01T00:00:00Z")
    assert bound["spec"]["nodeName"] == "n1"

"""Defaulting fills what kube-apiserver fills, and only what is missing."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from api.resources import by_plural
from apiserver.defaults import image_tag
from apiserver.logic import apply_defaults


def defaulted(plural: str, obj: dict[str, Any]) -> dict[str, Any]:
    r = by_plural("", plural)
    assert r is not None
    apply_defaults(r, obj)
    return obj


def test_pod_defaults() -> None:
    pod = defaulted(
        "pods",
        {
            "metadata": {"name": "p"},
            "spec": {
                "containers": [
                    {
                        "name": "a",
                        "image": "busybox",
                        "ports": [{"containerPort": 80}],
                        "livenessProbe": {"httpGet": {"port": 80}},
                    }
                ]
            },
        },
    )
    spec = pod["spec"]
    assert (
        spec["restartPolicy"],
        spec["terminationGracePeriodSeconds"],
        spec["dnsPolicy"],
        spec["schedulerName"],
    ) == ("Always", 30, "ClusterFirst", "default-scheduler")
    c = spec["containers"][0]
    assert (c["imagePullPolicy"], c["terminationMessagePath"], c["terminationMessagePolicy"]) == (
        "Always",
        "/dev/termination-log",
        "File",
    )
    assert c["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert c["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert {
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    } in spec["tolerations"]
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("busybox", "Always"),
        ("busybox:latest", "Always"),
        ("busybox:1.36", "IfNotPresent"),
        ("localhost:5000/busybox", "Always"),
        ("localhost:5000/busybox:1", "IfNotPresent"),
        ("busybox@sha256:" + "a" * 64, "IfNotPresent"),
    ],
)
def test_image_pull_policy_by_tag(image: str, policy: str) -> None:
    pod = defaulted("pods", {"spec": {"containers": [{"name": "a", "image": image}]}})
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == policy
    assert image_tag("busybox") == "latest"


def test_defaults_keep_given_values_and_are_idempotent() -> None:
    pod = {
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 5,
            "containers": [
                {
                    "name": "a",
                    "image": "busybox",
                    "imagePullPolicy": "Never",
                    "ports": [{"containerPort": 53, "protocol": "UDP"}],
                }
            ],
        }
    }
    once = defaulted("pods", pod)
    assert (once["spec"]["restartPolicy"], once["spec"]["terminationGracePeriodSeconds"]) == ("Never", 5)
    assert once["spec"]["containers"][0]["imagePullPolicy"] == "Never"
    assert once["spec"]["containers"][0]["ports"][0]["protocol"] == "UDP"
    assert defaulted("pods", copy.deepcopy(once)) == once


def test_limits_become_requests_and_qos() -> None:
    pod = defaulted(
        "pods",
        {
            "spec": {
                "containers": [
                    {"name": "a", "image": "x", "resources": {"limits": {"cpu": "1", "memory": "64Mi"}}}
                ]
            }
        },
    )
    assert pod["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1", "memory": "64Mi"}
    assert pod["status"]["qosClass"] == "Guaranteed"


def test_volume_without_source_is_empty_dir() -> None:
    pod = defaulted("pods", {"spec": {"volumes": [{"name": "v"}], "containers": []}})
    assert pod["spec"]["volumes"] == [{"name": "v", "emptyDir": {}}]


def test_replication_controller_defaults() -> None:
    rc = defaulted(
        "replicationcontrollers",
        {
            "metadata": {"name": "r"},
            "spec": {
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "a", "image": "x:1"}]},
                }
            },
        },
    )
    assert rc["spec"]["selector"] == {"app": "web"}
    assert rc["metadata"]["labels"] == {"app": "web"}
    assert rc["spec"]["replicas"] == 1
    assert rc["spec"]["template"]["spec"]["restartPolicy"] == "Always"
    assert rc["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert rc["status"] == {"replicas": 0}


def test_replicas_zero_is_kept() -> None:
    rc = defaulted("replicationcontrollers", {"spec": {"replicas": 0, "selector": {"a": "b"}}})
    assert rc["spec"]["replicas"] == 0


def test_service_defaults() -> None:
    svc = defaulted(
        "services", {"spec": {"ports": [{"port": 80}, {"port": 53, "protocol": "UDP", "targetPort": "dns"}]}}
    )
    spec = svc["spec"]
    assert (spec["type"], spec["sessionAffinity"], spec["internalTrafficPolicy"]) == (
        "ClusterIP",
        "None",
        "Cluster",
    )
    assert spec["ports"] == [
        {"port": 80, "protocol": "TCP", "targetPort": 80},
        {"port": 53, "protocol": "UDP", "targetPort": "dns"},
    ]
    node_port = defaulted(
        "services", {"spec": {"type": "NodePort", "clusterIP": "10.96.0.5", "ports": [{"port": 80}]}}
    )
    assert node_port["spec"]["externalTrafficPolicy"] == "Cluster"
    assert node_port["spec"]["clusterIPs"] == ["10.96.0.5"]
    assert node_port["spec"]["ipFamilies"] == ["IPv4"]


def test_namespace_and_node_defaults() -> None:
    ns = defaulted("namespaces", {"metadata": {"name": "team"}})
    assert ns["status"] == {"phase": "Active"}
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team"}
    node = defaulted("nodes", {"status": {"capacity": {"cpu": "2", "pods": "110"}}})
    assert node["status"]["allocatable"] == {"cpu": "2", "pods": "110"}


def test_endpoint_ports_default_tcp() -> None:
    ep = defaulted("endpoints", {"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]})
    assert ep["subsets"][0]["ports"] == [{"port": 80, "protocol": "TCP"}]


def test_odd_shapes_do_not_raise() -> None:
    body: dict[str, Any]
    for plural in ("pods", "replicationcontrollers", "services", "namespaces", "nodes", "endpoints"):
        for body in (
            {},
            {"spec": None},
            {"spec": {"containers": [None]}},
            {"status": []},
            {"subsets": [None]},
        ):
            defaulted(plural, copy.deepcopy(body))


def test_fields_of_gates_kube_133_keeps_off_are_dropped_from_pods_and_templates() -> None:
    from apiserver.defaults import default_pod, template_defaults

    def spec() -> dict[str, Any]:
        return {
            "resources": {"limits": {"cpu": "1"}},
            "resourceClaims": [{"name": "gpu", "resourceClaimName": "gpu-claim"}],
            "containers": [
                {
                    "name": "c",
                    "image": "busybox",
                    "lifecycle": {"stopSignal": "SIGUSR1", "preStop": {"exec": {"command": ["true"]}}},
                    "resources": {"limits": {"cpu": "1"}, "claims": [{"name": "gpu"}]},
                }
            ],
        }

    pod: dict[str, Any] = {"metadata": {"name": "p"}, "spec": spec()}
    default_pod(pod)
    deployment: dict[str, Any] = {"template": {"spec": spec()}}
    template_defaults(deployment)
    for s in (pod["spec"], deployment["template"]["spec"]):
        assert "resources" not in s and "resourceClaims" not in s
        c = s["containers"][0]
        assert c["lifecycle"] == {"preStop": {"exec": {"command": ["true"]}}}
        assert "claims" not in c["resources"] and c["resources"]["limits"] == {"cpu": "1"}


def test_an_image_volume_is_dropped_and_then_refused_as_kube_133_does() -> None:
    """ImageVolume is off by default in kube 1.33: the source goes after decoding, so no emptyDir
    is defaulted in its place, and validation refuses the volume for having none."""
    from apiserver.validation.pod import validate_pod_spec

    spec = {
        "containers": [{"name": "c", "image": "busybox"}],
        "volumes": [
            {"name": "tools", "image": {"reference": "quay.io/tools:1", "pullPolicy": "IfNotPresent"}}
        ],
    }
    pod = defaulted("pods", {"metadata": {"name": "p", "namespace": "ns"}, "spec": spec})
    assert pod["spec"]["volumes"] == [{"name": "tools"}]
    causes = validate_pod_spec(pod["spec"])
    assert {
        "field": "spec.volumes[0]",
        "reason": "FieldValueRequired",
        "message": "Required value: must specify a volume type",
    } in causes


def test_quantities_are_stored_in_kubes_canonical_text() -> None:
    """As kube stores a decoded resource.Quantity: a JSON number becomes its text, `0.5` is
    `500m`, `1024Mi` is `1Gi`, `1000m` is `1`; canonical text and malformed text are kept as given
    (validation refuses the latter in its own words)."""
    pod = defaulted(
        "pods",
        {
            "spec": {
                "containers": [
                    {
                        "name": "c",
                        "resources": {"limits": {"cpu": 5, "memory": "1024Mi"}, "requests": {"cpu": 0.5}},
                    }
                ],
                "overhead": {"cpu": "1000m"},
                "volumes": [{"name": "v", "emptyDir": {"sizeLimit": "2048Ki"}}],
            }
        },
    )
    spec = pod["spec"]
    assert spec["containers"][0]["resources"] == {
        "limits": {"cpu": "5", "memory": "1Gi"},
        "requests": {"cpu": "500m", "memory": "1Gi"},
    }
    assert spec["overhead"] == {"cpu": "1"}
    assert spec["volumes"][0]["emptyDir"]["sizeLimit"] == "2Mi"
    odd = defaulted(
        "pods", {"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "lots"}}}]}}
    )
    assert odd["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "lots"}
    node = defaulted("nodes", {"status": {"capacity": {"cpu": 2, "memory": "2097152Ki", "pods": "110"}}})
    assert node["status"]["capacity"] == {"cpu": "2", "memory": "2Gi", "pods": "110"}
    claim = defaulted("persistentvolumeclaims", {"spec": {"resources": {"requests": {"storage": "1024Mi"}}}})
    assert claim["spec"]["resources"]["requests"] == {"storage": "1Gi"}
    quota = defaulted("resourcequotas", {"spec": {"hard": {"requests.cpu": 4, "pods": "10"}}})
    assert quota["spec"]["hard"] == {"requests.cpu": "4", "pods": "10"}


def test_endpoints_subsets_without_addresses_are_dropped_as_kube_repacks_them() -> None:
    ep = defaulted(
        "endpoints",
        {
            "subsets": [
                None,
                {"ports": [{"port": 80}]},
                {"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]},
            ]
        },
    )
    assert ep["subsets"] == [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80, "protocol": "TCP"}]}]
    assert "subsets" not in defaulted("endpoints", {"subsets": [None]})


def test_false_omitempty_booleans_are_not_kept_as_kube_does_not_write_them() -> None:
    """A plain `bool ...,omitempty` of kube's types decodes false to its zero value, which kube does
    not write back; a *bool (csi's readOnly, a securityContext's privileged) keeps its false."""
    pod = defaulted(
        "pods",
        {
            "spec": {
                "hostNetwork": False,
                "containers": [
                    {
                        "name": "c",
                        "tty": False,
                        "stdin": True,
                        "securityContext": {"privileged": False},
                        "volumeMounts": [{"name": "d", "mountPath": "/d", "readOnly": False}],
                    }
                ],
                "volumes": [
                    {"name": "d", "persistentVolumeClaim": {"claimName": "x", "readOnly": False}},
                    {"name": "e", "csi": {"driver": "x.example.com", "readOnly": False}},
                ],
            }
        },
    )
    spec = pod["spec"]
    assert "hostNetwork" not in spec
    c = spec["containers"][0]
    assert "tty" not in c and c["stdin"] is True and c["securityContext"] == {"privileged": False}
    assert c["volumeMounts"] == [{"name": "d", "mountPath": "/d"}]
    assert spec["volumes"][0]["persistentVolumeClaim"] == {"claimName": "x"}
    assert spec["volumes"][1]["csi"]["readOnly"] is False
    deployment: dict[str, Any] = {"spec": {"paused": False, "template": {"spec": {"containers": []}}}}
    deployments = by_plural("apps", "deployments")
    assert deployments is not None
    apply_defaults(deployments, deployment)
    assert "paused" not in deployment["spec"]
    service = defaulted("services", {"spec": {"publishNotReadyAddresses": False, "ports": [{"port": 80}]}})
    assert "publishNotReadyAddresses" not in service["spec"]


def test_a_pod_stored_before_normalization_updates_without_a_spec_change() -> None:
    """A pod an older server stored with `readOnly: false` and `1000m` is judged against its spec
    as stored now: a label change is not taken for a change of the spec."""
    from apiserver.kinds import for_resource

    old_spec = {
        "containers": [
            {
                "name": "c",
                "image": "busybox",
                "resources": {"requests": {"cpu": "1000m"}},
                "volumeMounts": [{"name": "d", "mountPath": "/d", "readOnly": False}],
            }
        ],
        "volumes": [{"name": "d", "emptyDir": {}}],
    }
    new = defaulted("pods", {"metadata": {"name": "p", "namespace": "ns"}, "spec": old_spec})
    old = copy.deepcopy(new)  # as an older server stored it: defaulted, but not normalized
    old["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "1000m"
    old["spec"]["containers"][0]["volumeMounts"][0]["readOnly"] = False
    new["metadata"]["labels"] = {"a": "b"}
    pods = by_plural("", "pods")
    assert pods is not None
    strategy = for_resource(pods)
    assert strategy.validate_update is not None
    assert strategy.validate_update(new, old) == []

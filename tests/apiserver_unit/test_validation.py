"""One case per validation rule, asserting the exact 422 Status kube-apiserver would answer."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from api.errors import ApiError, invalid
from api.resources import by_plural
from apiserver import lifecycle
from apiserver.logic import apply_defaults, validate, validate_status_update
from apiserver.validation import names, validate_binding, validate_scale

Obj = dict[str, Any]
LABEL = names.DNS1123_LABEL_MSG
SUBDOMAIN = names.DNS1123_SUBDOMAIN_MSG
DNS1035 = names.DNS1035_LABEL_MSG
PORTS = names.PORT_RANGE_MSG


def manifest(
    kind: str, name: str, namespace: str | None = "default", api_version: str = "v1", **body: Any
) -> Obj:
    """A fresh object of `kind` (namespaced unless `namespace` is None) with the given top-level fields."""
    metadata = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}


def pod() -> Obj:
    return manifest("Pod", "web", spec={"containers": [{"name": "web", "image": "busybox:1.36"}]})


def rc() -> Obj:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "busybox"}]},
    }
    return manifest("ReplicationController", "web", spec={"replicas": 2, "template": template})


def svc() -> Obj:
    return manifest("Service", "web", spec={"selector": {"app": "web"}, "ports": [{"port": 80}]})


BASE: dict[str, Callable[[], Obj]] = {
    "pods": pod,
    "replicationcontrollers": rc,
    "services": svc,
    "namespaces": lambda: manifest("Namespace", "team-a", None),
    "nodes": lambda: manifest("Node", "node-1", None),
    "endpoints": lambda: manifest(
        "Endpoints", "web", subsets=[{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]
    ),
    "events": lambda: manifest(
        "Event",
        "e.1",
        involvedObject={"kind": "Pod", "name": "web", "namespace": "default"},
        reason="Started",
        type="Normal",
    ),
    "leases": lambda: manifest(
        "Lease",
        "node-1",
        "kube-node-lease",
        "coordination.k8s.io/v1",
        spec={"holderIdentity": "node-1", "leaseDurationSeconds": 40},
    ),
}


def status(plural: str, obj: Obj, old: Obj | None = None) -> Obj | None:
    r = by_plural("coordination.k8s.io" if plural == "leases" else "", plural)
    assert r is not None
    apply_defaults(r, obj)
    causes = validate(r, obj, old)
    if not causes:
        return None
    return invalid(r.kind, (obj.get("metadata") or {}).get("name", ""), causes, r.group).status


def inv(field: str, value: str, detail: str) -> dict[str, str]:
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {value}: {detail}", "field": field}


def req(field: str, detail: str = "") -> dict[str, str]:
    return {
        "reason": "FieldValueRequired",
        "message": "Required value" + (f": {detail}" if detail else ""),
        "field": field,
    }


def dup(field: str, value: str) -> dict[str, str]:
    return {"reason": "FieldValueDuplicate", "message": f"Duplicate value: {value}", "field": field}


def unsupported(field: str, value: str, options: str) -> dict[str, str]:
    return {
        "reason": "FieldValueNotSupported",
        "message": f"Unsupported value: {value}: supported values: {options}",
        "field": field,
    }


def forbidden(field: str, detail: str) -> dict[str, str]:
    return {"reason": "FieldValueForbidden", "message": f"Forbidden: {detail}", "field": field}


def setp(path: str, value: Any) -> Callable[[Obj], None]:
    """A mutation setting a dotted path (`spec.containers.0.name`); None deletes."""

    def run(obj: Obj) -> None:
        keys = path.split(".")
        node: Any = obj
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
        last = keys[-1]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is None:
            node.pop(last, None)
        else:
            node[last] = value

    return run


CASES: list[tuple[str, str, Callable[[Obj], object], list[dict[str, str]]]] = [
    (
        "name-required",
        "pods",
        setp("metadata.name", None),
        [req("metadata.name", "name or generateName is required")],
    ),
    ("name-subdomain", "pods", setp("metadata.name", "Web"), [inv("metadata.name", '"Web"', SUBDOMAIN)]),
    (
        "name-too-long",
        "pods",
        setp("metadata.name", "a" * 254),
        [inv("metadata.name", '"' + "a" * 254 + '"', "must be no more than 253 characters")],
    ),
    (
        "generate-name-ok",
        "pods",
        lambda o: (o["metadata"].pop("name"), o["metadata"].update(generateName="web-")),
        [],
    ),
    (
        "generate-name-bad",
        "pods",
        lambda o: (o["metadata"].pop("name"), o["metadata"].update(generateName="Web-")),
        [inv("metadata.generateName", '"Web-"', SUBDOMAIN)],
    ),
    ("namespace-required", "pods", setp("metadata.namespace", None), [req("metadata.namespace")]),
    (
        "namespace-label",
        "pods",
        setp("metadata.namespace", "a.b"),
        [inv("metadata.namespace", '"a.b"', LABEL)],
    ),
    (
        "cluster-scoped-namespace",
        "nodes",
        setp("metadata.namespace", "default"),
        [forbidden("metadata.namespace", "not allowed on this type")],
    ),
    (
        "namespace-name-label",
        "namespaces",
        setp("metadata.name", "a.b"),
        [inv("metadata.name", '"a.b"', LABEL)],
    ),
    (
        "service-name-dns1035",
        "services",
        setp("metadata.name", "1web"),
        [inv("metadata.name", '"1web"', DNS1035)],
    ),
    (
        "node-name-subdomain",
        "nodes",
        setp("metadata.name", "node_1"),
        [inv("metadata.name", '"node_1"', SUBDOMAIN)],
    ),
    (
        "label-key",
        "pods",
        setp("metadata.labels", {"-bad": "x"}),
        [inv("metadata.labels", '"-bad"', "name part " + names.QUALIFIED_NAME_MSG)],
    ),
    (
        "label-key-prefix",
        "pods",
        setp("metadata.labels", {"Example.com/a": "x"}),
        [inv("metadata.labels", '"Example.com/a"', "prefix part " + SUBDOMAIN)],
    ),
    (
        "label-value",
        "pods",
        setp("metadata.labels", {"a": "x y"}),
        [inv("metadata.labels", '"x y"', names.LABEL_VALUE_MSG)],
    ),
    (
        "label-value-too-long",
        "pods",
        setp("metadata.labels", {"a": "v" * 64}),
        [inv("metadata.labels", '"' + "v" * 64 + '"', "must be no more than 63 characters")],
    ),
    (
        "annotations-size",
        "pods",
        setp("metadata.annotations", {"a": "x" * (256 * 1024)}),
        [
            {
                "reason": "FieldValueTooLong",
                "message": "Too long: may not be more than 262144 bytes",
                "field": "metadata.annotations",
            }
        ],
    ),
    (
        "annotation-key",
        "pods",
        setp("metadata.annotations", {"a b": "x"}),
        [inv("metadata.annotations", '"a b"', "name part " + names.QUALIFIED_NAME_MSG)],
    ),
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
    (
        "volume-name-unique",
        "pods",
        setp("spec.volumes", [{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}]),
        [dup("spec.volumes[1].name", '"data"')],
    ),
    (
        "volume-one-source",
        "pods",
        setp("spec.volumes", [{"name": "data", "emptyDir": {}, "hostPath": {"path": "/x"}}]),
        [forbidden("spec.volumes[0].hostPath", "may not specify more than 1 volume type")],
    ),
    (
        "volume-mount-refers",
        "pods",
        setp("spec.containers.0.volumeMounts", [{"name": "nope", "mountPath": "/d"}]),
        [
            {
                "reason": "FieldValueNotFound",
                "message": 'Not found: "nope"',
                "field": "spec.containers[0].volumeMounts[0].name",
            }
        ],
    ),
    (
        "volume-mount-path",
        "pods",
        lambda o: (
            o["spec"].update(volumes=[{"name": "d"}]),
            o["spec"]["containers"][0].update(volumeMounts=[{"name": "d"}]),
        ),
        [req("spec.containers[0].volumeMounts[0].mountPath")],
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
        "host-path-type",
        "pods",
        setp("spec.volumes", [{"name": "d", "hostPath": {"path": "/x", "type": "Folder"}}]),
        [
            unsupported(
                "spec.volumes[0].hostPath.type",
                '"Folder"',
                '"", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"',
            )
        ],
    ),
    (
        "mount-propagation-and-recursive-read-only",
        "pods",
        lambda o: (
            o["spec"].update(volumes=[{"name": "d", "hostPath": {"path": "/x"}}]),
            o["spec"]["containers"][0].update(
                volumeMounts=[
                    {"name": "d", "mountPath": "/a", "mountPropagation": "Bidirectional"},
                    {"name": "d", "mountPath": "/b", "recursiveReadOnly": "Enabled"},
                    {
                        "name": "d",
                        "mountPath": "/c",
                        "readOnly": True,
                        "recursiveReadOnly": "IfPossible",
                        "mountPropagation": "HostToContainer",
                    },
                    {"name": "d", "mountPath": "/e", "mountPropagation": "Sideways"},
                ]
            ),
        ),
        [
            forbidden(
                "spec.containers[0].volumeMounts[0].mountPropagation",
                "Bidirectional mount propagation is available only to privileged containers",
            ),
            forbidden(
                "spec.containers[0].volumeMounts[1].recursiveReadOnly",
                "may only be specified when readOnly is specified",
            ),
            forbidden(
                "spec.containers[0].volumeMounts[2].recursiveReadOnly",
                "may only be specified when mountPropagation is None or not specified",
            ),
            unsupported(
                "spec.containers[0].volumeMounts[3].mountPropagation",
                '"Sideways"',
                '"Bidirectional", "HostToContainer", "None"',
            ),
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
        "volume-mount-subpath-stays-inside",
        "pods",
        lambda o: (
            o["spec"].update(volumes=[{"name": "d", "emptyDir": {}}]),
            o["spec"]["containers"][0].update(
                volumeMounts=[
                    {"name": "d", "mountPath": "/a", "subPath": "/etc"},
                    {"name": "d", "mountPath": "/b", "subPath": "x/../../etc"},
                    {"name": "d", "mountPath": "/c", "subPath": "logs/..x"},  # a name, not a step up
                    {"name": "d", "mountPath": "/e", "subPath": "x", "subPathExpr": "$(POD_NAME)"},
                ]
            ),
        ),
        [
            inv("spec.containers[0].volumeMounts[0].subPath", '"/etc"', "must be a relative path"),
            inv("spec.containers[0].volumeMounts[1].subPath", '"x/../../etc"', "must not contain '..'"),
            inv(
                "spec.containers[0].volumeMounts[3].subPathExpr",
                '"$(POD_NAME)"',
                "subPathExpr and subPath are mutually exclusive",
            ),
        ],
    ),
    (
        "projected-file-paths-stay-inside",
        "pods",
        setp(
            "spec.volumes",
            [
                {
                    "name": "c",
                    "configMap": {"name": "cm", "items": [{"key": "k", "path": "/root/.ssh/keys"}]},
                },
                {"name": "s", "secret": {"secretName": "s", "items": [{"key": "k", "path": "..data/k"}]}},
                {
                    "name": "d",
                    "downwardAPI": {
                        "items": [{"path": "a/../../b", "fieldRef": {"fieldPath": "metadata.name"}}]
                    },
                },
                {
                    "name": "p",
                    "projected": {
                        "sources": [
                            {"serviceAccountToken": {"path": "/token"}},
                            {"configMap": {"name": "cm", "items": [{"key": "k", "path": "ok/file"}]}},
                        ]
                    },
                },
            ],
        ),
        [
            inv("spec.volumes[0].configMap.items[0].path", '"/root/.ssh/keys"', "must be a relative path"),
            inv("spec.volumes[1].secret.items[0].path", '"..data/k"', "must not start with '..'"),
            inv("spec.volumes[2].downwardAPI.items[0].path", '"a/../../b"', "must not contain '..'"),
            inv(
                "spec.volumes[3].projected.sources[0].serviceAccountToken.path",
                '"/token"',
                "must be a relative path",
            ),
        ],
    ),
    (
        "grace-negative",
        "pods",
        setp("spec.terminationGracePeriodSeconds", -1),
        [inv("spec.terminationGracePeriodSeconds", "-1", "must be greater than or equal to 0")],
    ),
    (
        "wrong-type",
        "pods",
        setp("spec.containers.0.name", 7),
        [
            {
                "reason": "FieldValueInvalid",
                "field": "spec.containers[0].name",
                "message": "json: cannot unmarshal number into Go struct field Container.spec.containers.name of type string",
            }
        ],
    ),
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


@pytest.mark.parametrize(("plural", "mutate", "causes"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(plural: str, mutate: Callable[[Obj], None], causes: list[dict[str, str]]) -> None:
    obj = BASE[plural]()
    mutate(obj)
    got = status(plural, obj)
    if not causes:
        assert got is None
        return
    assert got is not None
    assert (got["code"], got["reason"], got["status"], got["kind"]) == (422, "Invalid", "Failure", "Status")
    assert got["details"]["causes"] == causes
    assert got["details"]["kind"] == obj["kind"]


@pytest.mark.parametrize("plural", sorted(BASE))
def test_valid_base_objects(plural: str) -> None:
    assert status(plural, BASE[plural]()) is None


def test_message_reads_like_kubectl() -> None:
    obj = pod()
    obj["metadata"]["name"] = "Web"
    got = status("pods", obj)
    assert got is not None
    assert got["message"].startswith(
        'Pod "Web" is invalid: metadata.name: Invalid value: "Web": a lowercase RFC 1123 '
        "subdomain must consist of"
    )


def test_several_causes_are_listed() -> None:
    obj = pod()
    obj["spec"]["containers"][0].pop("image")
    obj["spec"]["restartPolicy"] = "Sometimes"
    got = status("pods", obj)
    assert got is not None
    assert got["message"] == (
        'Pod "web" is invalid: [spec.containers[0].image: Required value, spec.restartPolicy: '
        'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"]'
    )


def _stored(plural: str) -> Obj:
    obj = BASE[plural]()
    r = by_plural("", plural)
    assert r is not None
    apply_defaults(r, obj)
    obj["metadata"].update(uid="u-1", creationTimestamp="2026-01-01T00:00:00Z")
    return obj


def test_update_name_is_immutable() -> None:
    old = _stored("pods")
    new = copy.deepcopy(old)
    new["metadata"]["name"] = "other"
    got = status("pods", new, old)
    assert got is not None
    assert inv("metadata.name", '"other"', "field is immutable") in got["details"]["causes"]


def test_pod_update_may_change_image_and_add_tolerations() -> None:
    old = _stored("pods")
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "busybox:1.37"
    new["spec"]["tolerations"].append({"key": "x", "operator": "Exists"})
    new["spec"]["activeDeadlineSeconds"] = 60
    assert status("pods", new, old) is None


def test_pod_update_may_not_change_other_fields() -> None:
    old = _stored("pods")
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["command"] = ["sh"]
    got = status("pods", new, old)
    assert got is not None
    (cause,) = got["details"]["causes"]
    assert cause["field"] == "spec" and cause["reason"] == "FieldValueForbidden"
    assert cause["message"].startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`"
    )


def test_service_cluster_ip_is_immutable() -> None:
    old = _stored("services")
    old["spec"]["clusterIP"] = "10.96.0.10"
    old["spec"]["clusterIPs"] = ["10.96.0.10"]
    new = copy.deepcopy(old)
    new["spec"]["clusterIP"] = "10.96.0.11"
    new["spec"]["clusterIPs"] = ["10.96.0.11"]
    got = status("services", new, old)
    assert got is not None
    assert got["details"]["causes"] == [inv("spec.clusterIPs[0]", '"10.96.0.11"', "may not change once set")]


def test_node_pod_cidr_may_only_be_set_once() -> None:
    old = _stored("nodes")
    old["spec"] = {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]}
    new = copy.deepcopy(old)
    new["spec"] = {"podCIDR": "10.244.2.0/24", "podCIDRs": ["10.244.2.0/24"]}
    got = status("nodes", new, old)
    assert got is not None
    assert got["details"]["causes"] == [
        forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid')
    ]


def test_status_update_checks_pod_ips() -> None:
    r = by_plural("", "pods")
    assert r is not None
    old = _stored("pods")
    new = copy.deepcopy(old)
    new["status"]["podIPs"] = [{"ip": "10.244.1.x"}]
    assert validate_status_update(r, new, old) == [inv("status.podIPs[0].ip", '"10.244.1.x"', names.IP_MSG)]
    new["status"]["podIPs"] = [{"ip": "10.244.1.5"}]
    assert validate_status_update(r, new, old) == []


def test_binding_and_scale_bodies() -> None:
    assert validate_binding({"target": {"kind": "Node", "name": "n1"}}) == []
    assert validate_binding({"target": {}}) == [req("target.name")]
    assert validate_binding({"target": {"kind": "Pod", "name": "x"}}) == [
        unsupported("target.kind", '"Pod"', '"Node", "<empty>"')
    ]
    assert validate_scale({"spec": {"replicas": -2}}) == [
        inv("spec.replicas", "-2", "must be greater than or equal to 0")
    ]


def test_never_raises_on_odd_shapes() -> None:
    r = by_plural("", "pods")
    assert r is not None
    for body in (
        {},
        {"metadata": None},
        {"spec": None},
        {"spec": {"containers": [None, 3]}},
        {"metadata": {"labels": None}, "spec": {"containers": [{"ports": [None]}]}},
    ):
        assert isinstance(validate(r, body), list)


def gated(*names: str) -> Obj:
    obj = _stored("pods")
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
    plain = _stored("pods")
    added = copy.deepcopy(plain)
    added["spec"]["schedulingGates"] = [{"name": "example.com/a"}]
    got = status("pods", added, plain)
    assert got is not None and [c["field"] for c in got["details"]["causes"]] == ["spec.schedulingGates"]


def test_a_gated_pod_cannot_be_bound() -> None:
    with pytest.raises(ApiError) as e:
        lifecycle.bind_pod(gated("example.com/a"), {"target": {"name": "n1"}}, "2026-01-01T00:00:00Z")
    assert e.value.code == 409 and "pod web has non-empty .spec.schedulingGates" in str(e.value)
    bound = lifecycle.bind_pod(_stored("pods"), {"target": {"name": "n1"}}, "2026-01-01T00:00:00Z")
    assert bound["spec"]["nodeName"] == "n1"

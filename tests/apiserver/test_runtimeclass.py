"""RuntimeClass (node.k8s.io/v1) served as kube-apiserver serves it, and kube's RuntimeClass
admission of pods: CRUD and create-on-PUT, kube's 422 paths and words with nothing stored, the
immutable handler, the HANDLER table through the real kubectl, the roles (none aggregated, as in
kube), and a pod given its class's overhead, nodeSelector and tolerations, or refused in kube's
words; the official Python client round trip."""

from __future__ import annotations

from typing import Any

import httpx
from kubernetes import client

from tests.apiserver.conftest import Server, table_rows

NODE = "/apis/node.k8s.io/v1"
DNS_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def runtime_class(name: str, handler: str = "runc", **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "node.k8s.io/v1",
        "kind": "RuntimeClass",
        "metadata": {"name": name},
        "handler": handler,
        **fields,
    }


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox:1"}], **spec}}


def _causes(r: httpx.Response) -> list[tuple[str, str]]:
    assert r.status_code == 422, r.text
    return [(c["field"], c["message"]) for c in r.json()["details"]["causes"]]


def _forbidden(r: httpx.Response, name: str, why: str) -> None:
    assert r.status_code == 403, r.text
    assert r.json()["reason"] == "Forbidden"
    assert r.json()["message"] == f'pods "{name}" is forbidden: {why}'


def test_crud_put_creates_and_the_handler_is_immutable(http: httpx.Client) -> None:
    base = f"{NODE}/runtimeclasses"
    r = http.post(base, json=runtime_class("rc-crud", overhead={"podFixed": {"cpu": "250m"}}))
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["handler"] == "runc" and got["overhead"] == {"podFixed": {"cpu": "250m"}}
    assert "generation" not in got["metadata"] and "namespace" not in got["metadata"]
    got["handler"] = "kata"
    r = http.put(f"{base}/rc-crud", json=got)
    assert _causes(r) == [("handler", 'Invalid value: "kata": field is immutable')]
    got["handler"] = "runc"
    got["scheduling"] = {"nodeSelector": {"disk": "ssd"}}
    assert http.put(f"{base}/rc-crud", json=got).status_code == 200
    # kube's AllowCreateOnUpdate: a PUT of a missing class makes it
    r = http.put(f"{base}/rc-put", json=runtime_class("rc-put"))
    assert r.status_code == 201, r.text
    names = [i["metadata"]["name"] for i in http.get(base).json()["items"]]
    assert {"rc-crud", "rc-put"} <= set(names)
    for name in ("rc-crud", "rc-put"):
        assert http.delete(f"{base}/{name}").status_code == 200
    assert http.get(f"{base}/rc-crud").status_code == 404


def test_refusals_name_kube_paths_and_store_nothing(http: httpx.Client) -> None:
    base = f"{NODE}/runtimeclasses"
    bad = runtime_class(
        "rc-bad",
        "Not_A_Label",
        overhead={"podFixed": {"cpu": "-1"}},
        scheduling={
            "nodeSelector": {"bad key!": "v"},
            "tolerations": [
                {"operator": "Equal", "value": "x"},
                {"key": "k", "operator": "Exists", "value": "v"},
                {"key": "k", "operator": "Equal", "effect": "NoSchedule", "tolerationSeconds": 5},
                {"key": "k", "operator": "Exists", "effect": "Sometimes"},
            ],
        },
    )
    causes = _causes(http.post(base, json=bad))
    fields = [f for f, _ in causes]
    assert fields == [
        "handler",
        "overhead.limits[cpu]",
        "scheduling.nodeSelector",
        "scheduling.tolerations[0].operator",
        "scheduling.tolerations[1].operator",
        "scheduling.tolerations[2].effect",
        "scheduling.tolerations[3].effect",
    ]
    assert causes[0][1] == f'Invalid value: "Not_A_Label": {DNS_LABEL_MSG}'
    assert causes[1][1] == 'Invalid value: "-1": must be greater than or equal to 0'
    assert causes[3][1] == (
        'Invalid value: "Equal": operator must be Exists when `key` is empty, which means '
        '"match all values and all keys"'
    )
    assert causes[4][1].endswith("value must be empty when `operator` is 'Exists'")
    assert (
        causes[5][1]
        == "Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"
    )
    assert causes[6][1] == (
        'Unsupported value: "Sometimes": supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"'
    )
    assert _causes(http.post(base, json=runtime_class("rc-empty", ""))) == [
        ("handler", f'Invalid value: "": {DNS_LABEL_MSG}')
    ]
    r = http.post(f"{base}?fieldValidation=Strict", json={**runtime_class("rc-strict"), "handlr": "x"})
    assert r.status_code == 400 and 'unknown field \\"handlr\\"' in r.text
    assert http.get(f"{base}/rc-bad").status_code == 404


def test_discovery_table_and_roles(server: Server, http: httpx.Client) -> None:
    found = [r for r in http.get(NODE).json()["resources"] if r["name"] == "runtimeclasses"]
    assert len(found) == 1 and not found[0]["namespaced"] and found[0]["kind"] == "RuntimeClass"
    assert not found[0].get("shortNames")
    http.post(f"{NODE}/runtimeclasses", json=runtime_class("rc-table-a")).raise_for_status()
    http.post(f"{NODE}/runtimeclasses", json=runtime_class("rc-table-b", "kata")).raise_for_status()
    rows = table_rows(server.kubectl("get", "runtimeclass", check=True).stdout)
    assert rows[0] == ["NAME", "HANDLER", "AGE"]
    mine = [r[:-1] for r in rows[1:] if r[0].startswith("rc-table-")]
    assert mine == [["rc-table-a", "runc"], ["rc-table-b", "kata"]]
    explained = server.kubectl("explain", "runtimeclass.scheduling", check=True).stdout
    assert "KIND:       RuntimeClass" in explained and "tolerations\t<[]Toleration>" in explained

    def allowed(role: str, verb: str) -> bool:
        user = f"rc-{role}"
        binding = {
            "metadata": {"name": user},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": user}],
        }
        http.post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json=binding)
        attrs = {"verb": verb, "group": "node.k8s.io", "resource": "runtimeclasses"}
        review = {"spec": {"user": user, "resourceAttributes": attrs}}
        r = http.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", json=review)
        return bool(r.json()["status"]["allowed"])

    # kube's view and edit roles do not name runtimeclasses; cluster-admin does everything
    assert not allowed("view", "get") and not allowed("edit", "create")
    assert allowed("cluster-admin", "create")
    for name in ("rc-table-a", "rc-table-b"):
        http.delete(f"{NODE}/runtimeclasses/{name}")


def test_admission_sets_overhead_and_merges_scheduling(http: httpx.Client, ns: str) -> None:
    tolerations = [
        {"key": "sandboxed", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "team", "operator": "Equal", "value": "a", "effect": "NoSchedule"},
    ]
    rc = runtime_class(
        "rc-adm",
        overhead={"podFixed": {"cpu": "250m", "memory": "64Mi"}},
        scheduling={"nodeSelector": {"sandbox": "yes"}, "tolerations": tolerations},
    )
    http.post(f"{NODE}/runtimeclasses", json=rc).raise_for_status()
    try:
        body = pod(
            "given",
            runtimeClassName="rc-adm",
            nodeSelector={"zone": "a"},
            tolerations=[{"key": "team", "operator": "Exists", "effect": "NoSchedule"}],
        )
        r = http.post(f"/api/v1/namespaces/{ns}/pods", json=body)
        assert r.status_code == 201, r.text
        spec = r.json()["spec"]
        assert spec["overhead"] == {"cpu": "250m", "memory": "64Mi"}
        assert spec["nodeSelector"] == {"zone": "a", "sandbox": "yes"}
        keys = [(t.get("key"), t.get("operator"), t.get("effect")) for t in spec["tolerations"]]
        # the pod's own team=Exists covers the class's team=a, which is dropped (MergeTolerations)
        assert keys[:2] == [("team", "Exists", "NoSchedule"), ("sandboxed", "Exists", "NoSchedule")]
        assert ("team", "Equal", "NoSchedule") not in keys

        # the same overhead, written differently, is the class's
        same = pod("same-overhead", runtimeClassName="rc-adm", overhead={"cpu": "0.25", "memory": "67108864"})
        assert http.post(f"/api/v1/namespaces/{ns}/pods", json=same).status_code == 201

        other = pod("other-overhead", runtimeClassName="rc-adm", overhead={"cpu": "1"})
        _forbidden(
            http.post(f"/api/v1/namespaces/{ns}/pods", json=other),
            "other-overhead",
            "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead",
        )
        clash = pod("clash", runtimeClassName="rc-adm", nodeSelector={"sandbox": "no"})
        _forbidden(
            http.post(f"/api/v1/namespaces/{ns}/pods", json=clash),
            "clash",
            "conflict: runtimeClass.scheduling.nodeSelector[sandbox] = yes; pod.spec.nodeSelector[sandbox] = no",
        )
    finally:
        http.delete(f"{NODE}/runtimeclasses/rc-adm")


def test_admission_refuses_a_missing_class_and_an_overhead_no_class_defines(
    http: httpx.Client, ns: str
) -> None:
    missing = pod("missing", runtimeClassName="gvisor")
    _forbidden(
        http.post(f"/api/v1/namespaces/{ns}/pods", json=missing),
        "missing",
        'pod rejected: RuntimeClass "gvisor" not found',
    )
    unclassed = pod("unclassed", overhead={"cpu": "250m"})
    _forbidden(
        http.post(f"/api/v1/namespaces/{ns}/pods", json=unclassed),
        "unclassed",
        "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead",
    )
    http.post(f"{NODE}/runtimeclasses", json=runtime_class("rc-plain")).raise_for_status()
    try:
        plain = pod("plain-with-overhead", runtimeClassName="rc-plain", overhead={"cpu": "250m"})
        _forbidden(
            http.post(f"/api/v1/namespaces/{ns}/pods", json=plain),
            "plain-with-overhead",
            "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead",
        )
        ok = pod("plain", runtimeClassName="rc-plain")
        r = http.post(f"/api/v1/namespaces/{ns}/pods", json=ok)
        assert r.status_code == 201, r.text
        assert "overhead" not in r.json()["spec"]
        # the pod's own name check of the class (ValidatePodSpec), after admission found none
        bad = pod("bad-name", runtimeClassName="Bad_Name")
        _forbidden(
            http.post(f"/api/v1/namespaces/{ns}/pods", json=bad),
            "bad-name",
            'pod rejected: RuntimeClass "Bad_Name" not found',
        )
    finally:
        http.delete(f"{NODE}/runtimeclasses/rc-plain")


def test_python_client_round_trips(api_client: Any) -> None:
    node: Any = client.NodeV1Api(api_client)
    body = client.V1RuntimeClass(
        metadata=client.V1ObjectMeta(name="rc-py"),
        handler="runc",
        overhead=client.V1Overhead(pod_fixed={"cpu": "100m"}),
        scheduling=client.V1Scheduling(
            node_selector={"a": "b"},
            tolerations=[client.V1Toleration(key="k", operator="Exists", effect="NoExecute")],
        ),
    )
    made = node.create_runtime_class(body)
    assert made.handler == "runc" and made.overhead.pod_fixed == {"cpu": "100m"}
    got = node.read_runtime_class("rc-py")
    assert got.scheduling.tolerations[0].key == "k"
    got.scheduling.node_selector = {"a": "c"}
    assert node.replace_runtime_class("rc-py", got).scheduling.node_selector == {"a": "c"}
    assert "rc-py" in [i.metadata.name for i in node.list_runtime_class().items]
    node.delete_runtime_class("rc-py")
    assert "rc-py" not in [i.metadata.name for i in node.list_runtime_class().items]

"""PodTemplate (v1) served as kube-apiserver serves it: the pod defaults on the template, a
generation counted on template changes, ValidatePodTemplateSpec's 422s under `template.`, the
CONTAINERS / IMAGES / POD LABELS table through the real kubectl, and the official Python client."""

from __future__ import annotations

from typing import Any

import httpx
from kubernetes import client

from tests.apiserver.conftest import Server, table_rows


def template(name: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    containers = spec.pop("containers", [{"name": "web", "image": "nginx:1.27"}])
    return {
        "apiVersion": "v1",
        "kind": "PodTemplate",
        "metadata": {"name": name},
        "template": {"metadata": {"labels": labels or {}}, "spec": {"containers": containers, **spec}},
    }


def _causes(r: httpx.Response) -> list[tuple[str, str]]:
    assert r.status_code == 422, r.text
    return [(c["field"], c["message"]) for c in r.json()["details"]["causes"]]


def test_crud_defaults_and_generation(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/podtemplates"
    r = http.post(base, json=template("web", {"app": "web"}))
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["metadata"]["generation"] == 1
    spec = got["template"]["spec"]
    assert spec["restartPolicy"] == "Always" and spec["dnsPolicy"] == "ClusterFirst"
    c = spec["containers"][0]
    assert c["imagePullPolicy"] == "IfNotPresent" and c["terminationMessagePath"] == "/dev/termination-log"
    got["metadata"]["labels"] = {"only": "metadata"}
    same = http.put(f"{base}/web", json=got).json()
    assert same["metadata"]["generation"] == 1  # metadata alone: no new generation
    same["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    assert http.put(f"{base}/web", json=same).json()["metadata"]["generation"] == 2
    assert http.put(f"{base}/missing", json=template("missing")).status_code == 404  # no create on PUT
    assert [i["metadata"]["name"] for i in http.get(base).json()["items"]] == ["web"]
    assert http.delete(f"{base}/web").status_code == 200


def test_refusals_name_kube_paths(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/podtemplates"
    empty = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "empty"}}
    assert _causes(http.post(base, json=empty)) == [("template.spec.containers", "Required value")]
    bad = template(
        "bad",
        containers=[{"name": "Bad_Name", "image": "x"}],
        ephemeralContainers=[{"name": "dbg", "image": "busybox"}],
        restartPolicy="Sometimes",
    )
    fields = {f for f, _ in _causes(http.post(base, json=bad))}
    assert {
        "template.spec.containers[0].name",
        "template.spec.ephemeralContainers",
        "template.spec.restartPolicy",
    } <= fields
    r = http.post(f"{base}?fieldValidation=Strict", json={**template("strict"), "spec": {}})
    assert r.status_code == 400 and 'unknown field \\"spec\\"' in r.text
    assert http.get(f"{base}/bad").status_code == 404


def test_kubectl_table(server: Server, http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/podtemplates"
    two = [{"name": "a", "image": "nginx:1.27"}, {"name": "b", "image": "busybox:1"}]
    http.post(base, json=template("two", {"app": "x", "tier": "b"}, containers=two)).raise_for_status()
    http.post(base, json=template("bare")).raise_for_status()
    rows = table_rows(server.kubectl("-n", ns, "get", "podtemplates", check=True).stdout)
    assert rows == [
        ["NAME", "CONTAINERS", "IMAGES", "POD", "LABELS"],
        ["bare", "web", "nginx:1.27", "<none>"],
        ["two", "a,b", "nginx:1.27,busybox:1", "app=x,tier=b"],
    ]


def test_python_client_round_trips(api_client: Any, ns: str) -> None:
    core: Any = client.CoreV1Api(api_client)
    body = client.V1PodTemplate(
        metadata=client.V1ObjectMeta(name="py"),
        template=client.V1PodTemplateSpec(
            metadata=client.V1ObjectMeta(labels={"app": "py"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox:1")]),
        ),
    )
    made = core.create_namespaced_pod_template(ns, body)
    assert made.template.spec.restart_policy == "Always" and made.metadata.generation == 1
    got = core.read_namespaced_pod_template("py", ns)
    got.template.metadata.labels = {"app": "py2"}
    assert core.replace_namespaced_pod_template("py", ns, got).metadata.generation == 2
    assert [t.metadata.name for t in core.list_namespaced_pod_template(ns).items] == ["py"]
    core.delete_namespaced_pod_template("py", ns)
    assert core.list_namespaced_pod_template(ns).items == []

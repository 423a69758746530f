"""autoscaling/v1 HorizontalPodAutoscaler through a real server: the same stored objects as v2, each
read and written in its version's shape (kube's conversion and annotations), v2's rules and
cause paths, the v1 watch and Table, the official client's AutoscalingV1Api, and `kubectl
autoscale` of kubectl 1.27-1.32, which creates v1 objects."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from api import hpav1
from tests.apiserver.conftest import Server, table_rows, watch_events
from tests.kubectls import kubectl

V1 = "/apis/autoscaling/v1"
V2 = "/apis/autoscaling/v2"
REF = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}


def _hpas(version: str, ns: str) -> str:
    return f"{version}/namespaces/{ns}/horizontalpodautoscalers"


def test_v1_create_is_a_v2_object(http: httpx.Client, ns: str) -> None:
    r = http.post(
        _hpas(V1, ns),
        json={
            "metadata": {"name": "a"},
            "spec": {"scaleTargetRef": REF, "maxReplicas": 4, "targetCPUUtilizationPercentage": 55},
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["apiVersion"] == "autoscaling/v1"
    assert body["spec"] == {
        "scaleTargetRef": REF,
        "minReplicas": 1,
        "maxReplicas": 4,
        "targetCPUUtilizationPercentage": 55,
    }
    assert body["status"] == {"currentReplicas": 0, "desiredReplicas": 0}
    v2 = http.get(f"{_hpas(V2, ns)}/a").json()
    assert v2["apiVersion"] == "autoscaling/v2"
    assert v2["spec"]["metrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 55}},
        }
    ]
    assert v2["status"] == {"desiredReplicas": 0}
    assert v2["metadata"]["resourceVersion"] == body["metadata"]["resourceVersion"]
    # no target at all: v1's implicit CPU at 80%, stored explicitly
    r = http.post(
        _hpas(V1, ns), json={"metadata": {"name": "b"}, "spec": {"scaleTargetRef": REF, "maxReplicas": 2}}
    )
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["targetCPUUtilizationPercentage"] == 80
    listed = http.get(_hpas(V1, ns)).json()
    assert listed["kind"] == "HorizontalPodAutoscalerList" and listed["apiVersion"] == "autoscaling/v1"
    assert {i["apiVersion"] for i in listed["items"]} == {"autoscaling/v1"}


def test_v1_read_modify_write_keeps_what_only_v2_can_say(http: httpx.Client, ns: str) -> None:
    memory = {
        "type": "Resource",
        "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}},
    }
    cpu = {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}},
    }
    spec = {
        "scaleTargetRef": REF,
        "maxReplicas": 5,
        "metrics": [memory, cpu],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 30}},
    }
    r = http.post(_hpas(V2, ns), json={"metadata": {"name": "rich"}, "spec": spec})
    assert r.status_code == 201, r.text
    status = {
        "currentReplicas": 2,
        "desiredReplicas": 2,
        "currentMetrics": [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "current": {"averageUtilization": 33, "averageValue": "66m"}},
            }
        ],
        "conditions": [
            {
                "type": "AbleToScale",
                "status": "True",
                "lastTransitionTime": "2026-12-05T08:00:00Z",
                "reason": "ReadyForNewScale",
            }
        ],
    }
    r = http.patch(
        f"{_hpas(V2, ns)}/rich/status",
        json={"status": status},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    stored = r.json()

    v1 = http.get(f"{_hpas(V1, ns)}/rich").json()
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 60
    assert v1["status"]["currentCPUUtilizationPercentage"] == 33
    notes = v1["metadata"]["annotations"]
    assert json.loads(notes[hpav1.METRICS]) == [
        {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "100Mi"}}
    ]
    assert set(notes) == set(hpav1.ROUND_TRIP)

    # a v1 client changes maxReplicas and puts back what it read: nothing else changes
    v1["spec"]["maxReplicas"] = 7
    r = http.put(f"{_hpas(V1, ns)}/rich", json=v1)
    assert r.status_code == 200, r.text
    after = http.get(f"{_hpas(V2, ns)}/rich").json()
    assert after["spec"] == {**stored["spec"], "maxReplicas": 7}
    assert after["status"] == stored["status"]
    assert "annotations" not in after["metadata"]
    assert after["metadata"]["generation"] == stored["metadata"]["generation"] + 1

    # a v1 write that drops the annotations: its spec says CPU only, and the status stays stored
    bare = http.get(f"{_hpas(V1, ns)}/rich").json()
    bare["metadata"].pop("annotations")
    r = http.put(f"{_hpas(V1, ns)}/rich", json=bare)
    assert r.status_code == 200, r.text
    after = http.get(f"{_hpas(V2, ns)}/rich").json()
    assert after["spec"]["metrics"] == [cpu]
    assert "behavior" not in after["spec"]
    assert after["status"] == stored["status"]


def test_v1_is_held_to_v2_rules(http: httpx.Client, ns: str) -> None:
    r = http.post(
        _hpas(V1, ns),
        json={
            "metadata": {"name": "z"},
            "spec": {"scaleTargetRef": REF, "maxReplicas": 2, "targetCPUUtilizationPercentage": 0},
        },
    )
    assert r.status_code == 422, r.text
    causes = r.json()["details"]["causes"]
    assert causes == [
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: 0: must be greater than 0",
            "field": "spec.metrics[0].resource.target.averageUtilization",
        }
    ]
    bad = {hpav1.METRICS: "[not json"}
    r = http.post(
        _hpas(V1, ns),
        json={
            "metadata": {"name": "z", "annotations": bad},
            "spec": {"scaleTargetRef": REF, "maxReplicas": 2},
        },
    )
    assert r.status_code == 422, r.text
    assert hpav1.METRICS in r.text
    r = http.post(
        _hpas(V1, ns), json={"metadata": {"name": "z"}, "spec": {"scaleTargetRef": REF, "maxReplicas": "2"}}
    )
    assert r.status_code == 422, r.text  # a JSON type error, found before anything is converted
    assert r.json()["details"]["causes"][0]["field"] == "spec.maxReplicas"
    assert http.get(_hpas(V2, ns)).json()["items"] == []


def test_v1_watch_and_table(server: Server, http: httpx.Client, ns: str) -> None:
    rv = http.get(_hpas(V1, ns)).json()["metadata"]["resourceVersion"]
    r = http.post(
        _hpas(V2, ns), json={"metadata": {"name": "w"}, "spec": {"scaleTargetRef": REF, "maxReplicas": 3}}
    )
    assert r.status_code == 201, r.text
    (event,) = watch_events(http, f"{_hpas(V1, ns)}?watch=1&resourceVersion={rv}", 1)
    assert event["type"] == "ADDED"
    assert event["object"]["apiVersion"] == "autoscaling/v1"
    assert event["object"]["spec"]["targetCPUUtilizationPercentage"] == 80
    out = server.kubectl("-n", ns, "get", "horizontalpodautoscalers.v1.autoscaling", check=True).stdout
    assert table_rows(out)[1][:6] == ["w", "Deployment/web", "cpu:", "<unknown>/80%", "1", "3"]


def test_official_client_autoscaling_v1(api_client: Any, ns: str) -> None:
    from kubernetes import client

    api = client.AutoscalingV1Api(api_client)
    body = client.V1HorizontalPodAutoscaler(
        metadata=client.V1ObjectMeta(name="py"),
        spec=client.V1HorizontalPodAutoscalerSpec(
            scale_target_ref=client.V1CrossVersionObjectReference(
                **{"api_version": "apps/v1", "kind": "Deployment", "name": "web"}
            ),
            max_replicas=3,
            target_cpu_utilization_percentage=40,
        ),
    )
    made = api.create_namespaced_horizontal_pod_autoscaler(ns, body)
    assert made.spec.target_cpu_utilization_percentage == 40
    assert made.status.current_replicas == 0
    read = api.read_namespaced_horizontal_pod_autoscaler("py", ns)
    assert read.spec.min_replicas == 1
    listed = api.list_namespaced_horizontal_pod_autoscaler(ns)
    assert [i.metadata.name for i in listed.items] == ["py"]


@pytest.mark.parametrize("version", ["1.27", "1.32"])
def test_kubectl_autoscale_creates_v1(server: Server, http: httpx.Client, ns: str, version: str) -> None:
    server.kubectl("-n", ns, "create", "deployment", "web", "--image=busybox:1", check=True)
    r = server.kubectl(
        "-n",
        ns,
        "autoscale",
        "deployment",
        "web",
        "--min=2",
        "--max=6",
        "--cpu-percent=45",
        binary=kubectl(version),
    )
    assert r.returncode == 0, r.stderr
    assert "horizontalpodautoscaler.autoscaling/web autoscaled" in r.stdout
    v2 = http.get(f"{_hpas(V2, ns)}/web").json()
    assert v2["spec"]["minReplicas"] == 2 and v2["spec"]["maxReplicas"] == 6
    assert v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 45
    out = server.kubectl("-n", ns, "get", "hpa", binary=kubectl(version), check=True).stdout
    assert table_rows(out)[1][:6] == ["web", "Deployment/web", "cpu:", "<unknown>/45%", "2", "6"]


def test_explain_names_the_either_kind_scalars(server: Server) -> None:
    """OpenAPI v3 gives Quantity and IntOrString as a oneOf (kube's), so explain names them."""
    out = server.kubectl("explain", "pods.spec.containers.resources.limits", check=True).stdout
    assert "FIELD: limits <map[string]Quantity>" in out
    out = server.kubectl("explain", "svc.spec.ports.targetPort", check=True).stdout
    assert "FIELD: targetPort <IntOrString>" in out
    out = server.kubectl("explain", "hpa.spec", "--api-version=autoscaling/v1", check=True).stdout
    assert "targetCPUUtilizationPercentage\t<integer>" in out

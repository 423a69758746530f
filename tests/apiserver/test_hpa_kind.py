"""autoscaling/v2 HorizontalPodAutoscaler through a real server: kube's defaults, 422s naming the
field, status only through /status, the Table columns, and `kubectl autoscale` by the real kubectl
1.33 and by ours, creating the same object."""

from __future__ import annotations

import httpx

from tests.apiserver.conftest import KUBELITE, Server

HPA = "/apis/autoscaling/v2"


def _deployment(http: httpx.Client, ns: str, name: str) -> None:
    labels = {"app": name}
    r = http.post(
        f"/apis/apps/v1/namespaces/{ns}/deployments",
        json={
            "metadata": {"name": name},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "busybox:1"}]},
                },
            },
        },
    )
    assert r.status_code == 201, r.text


def test_defaults_validation_and_status(http: httpx.Client, ns: str) -> None:
    base = f"{HPA}/namespaces/{ns}/horizontalpodautoscalers"
    r = http.post(
        base,
        json={
            "metadata": {"name": "a"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "maxReplicas": 3,
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 5}},
            },
        },
    )
    assert r.status_code == 201, r.text
    spec = r.json()["spec"]
    assert spec["minReplicas"] == 1
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
        }
    ]
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 5
    assert spec["behavior"]["scaleDown"]["policies"] == [
        {"type": "Percent", "value": 100, "periodSeconds": 15}
    ]
    assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert r.json()["status"] == {"desiredReplicas": 0}
    assert r.json()["metadata"]["generation"] == 1

    bad = http.post(
        base,
        json={
            "metadata": {"name": "b"},
            "spec": {
                "scaleTargetRef": {"kind": "Deployment"},
                "minReplicas": 5,
                "maxReplicas": 2,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 0},
                        },
                    }
                ],
            },
        },
    )
    assert bad.status_code == 422, bad.text
    fields = {c["field"]: c["message"] for c in bad.json()["details"]["causes"]}
    assert fields["spec.scaleTargetRef.name"] == "Required value"
    assert fields["spec.maxReplicas"] == "Invalid value: 2: must be greater than or equal to `minReplicas`"
    assert (
        fields["spec.metrics[0].resource.target.averageUtilization"]
        == "Invalid value: 0: must be greater than 0"
    )
    assert http.get(f"{base}/b").status_code == 404

    # status goes only through /status
    obj = http.get(f"{base}/a").json()
    obj["status"] = {"desiredReplicas": 7, "currentReplicas": 2}
    assert http.put(f"{base}/a", json=obj).json()["status"] == {"desiredReplicas": 0}
    obj = http.get(f"{base}/a").json()
    obj["status"] = {
        "desiredReplicas": 7,
        "currentReplicas": 2,
        "currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 42}}}
        ],
    }
    r = http.put(f"{base}/a/status", json=obj)
    assert r.status_code == 200 and r.json()["status"]["desiredReplicas"] == 7

    table = http.get(base, headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}).json()
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name",
        "Reference",
        "Targets",
        "MinPods",
        "MaxPods",
        "Replicas",
        "Age",
    ]
    assert table["rows"][0]["cells"][:6] == ["a", "Deployment/web", "cpu: 42%/80%", 1, 3, 2]


def test_kubectl_autoscale_real_and_ours(server: Server, http: httpx.Client, ns: str) -> None:
    _deployment(http, ns, "web")
    _deployment(http, ns, "api")
    r = server.kubectl("-n", ns, "autoscale", "deployment", "web", "--cpu-percent=50", "--min=1", "--max=5")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "horizontalpodautoscaler.autoscaling/web autoscaled"
    real = http.get(f"{HPA}/namespaces/{ns}/horizontalpodautoscalers/web").json()
    r = server.kubectl(
        "-n",
        ns,
        "autoscale",
        "deployment/api",
        "--cpu-percent=50",
        "--min=1",
        "--max=5",
        binary=str(KUBELITE.parent / "kubectl"),
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "horizontalpodautoscaler.autoscaling/api autoscaled"
    ours = http.get(f"{HPA}/namespaces/{ns}/horizontalpodautoscalers/api").json()
    assert ours["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}
    real["spec"]["scaleTargetRef"]["name"] = "api"
    assert ours["spec"] == real["spec"]
    got = server.kubectl("-n", ns, "get", "hpa")
    assert got.returncode == 0, got.stderr
    header, *rows = got.stdout.splitlines()
    assert header.split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    assert rows[1].split()[:4] == ["web", "Deployment/web", "cpu:", "<unknown>/50%"]
    described = server.kubectl("-n", ns, "describe", "hpa", "web")
    assert described.returncode == 0, described.stderr
    assert "Reference:" in described.stdout and "Deployment/web" in described.stdout
    assert "Min replicas:" in described.stdout and "Max replicas:" in described.stdout
    # with a measurement, conditions and a behavior, ours prints what the real one prints
    hpa = http.get(f"{HPA}/namespaces/{ns}/horizontalpodautoscalers/web").json()
    hpa["spec"]["behavior"] = {"scaleDown": {"stabilizationWindowSeconds": 5}}
    hpa = http.put(f"{HPA}/namespaces/{ns}/horizontalpodautoscalers/web", json=hpa).json()
    hpa["status"] = {
        "currentReplicas": 2,
        "desiredReplicas": 4,
        "currentMetrics": [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "current": {"averageUtilization": 100, "averageValue": "100m"}},
            }
        ],
        "conditions": [
            {
                "type": "AbleToScale",
                "status": "True",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
                "reason": "SucceededRescale",
                "message": "the HPA controller was able to update the target scale to 4",
            }
        ],
    }
    assert http.put(f"{HPA}/namespaces/{ns}/horizontalpodautoscalers/web/status", json=hpa).status_code == 200
    real_text = server.kubectl("-n", ns, "describe", "hpa", "web")
    ours_text = server.kubectl("-n", ns, "describe", "hpa", "web", binary=str(KUBELITE.parent / "kubectl"))
    assert ours_text.returncode == 0, ours_text.stderr
    assert "resource cpu on pods  (as a percentage of request):  100% (100m) / 50%" in real_text.stdout
    assert ours_text.stdout == real_text.stdout
    missing = server.kubectl(
        "-n", ns, "autoscale", "deployment", "nope", "--max=2", binary=str(KUBELITE.parent / "kubectl")
    )
    assert missing.returncode != 0 and "not found" in missing.stderr

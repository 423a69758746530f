"""Resource metrics and autoscaling on the real 2-node cluster: a busy container's cgroup CPU reaches
`kubectl top pods` (the real kubectl 1.33) as non-zero usage, and an HPA made by `kubectl autoscale`
scales a CPU-burning Deployment up, then back down once the target is raised (5 s scale-down window)."""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Cluster
from tests.e2e.manifests import deployment
from tests.polling import wait_for

BURN = ["sh", "-c", "while :; do :; done"]


def _burner(c: Cluster, name: str, replicas: int) -> None:
    burn = {
        "name": "burn",
        "image": "busybox:1.35",
        "command": BURN,
        # the limit keeps a burner to a tenth of a core on a shared machine
        "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "100m"}},
    }
    c.kubectl("apply", "-f", "-", input=json.dumps(deployment(name, replicas, burn)))


def _millicores(text: str) -> int:
    return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)


def test_kubectl_top_pods_shows_busy_cpu(cluster: Cluster) -> None:
    _burner(cluster, "topburn", 1)
    try:

        def busy_row() -> list[str] | None:
            r = cluster.kubectl("top", "pods", "-l", "app=topburn", real=True, check=False)
            rows = [line.split() for line in r.stdout.splitlines()[1:]] if r.returncode == 0 else []
            return rows[0] if rows and _millicores(rows[0][1]) >= 20 else None

        row = wait_for(busy_row, 90, "kubectl top pods to show the burner's CPU", interval=1)
        assert row[0].startswith("topburn-") and row[2].endswith("Mi")
        nodes = cluster.kubectl("top", "nodes", real=True)
        assert len(nodes.stdout.splitlines()) == 3 and "CPU(cores)" in nodes.stdout
        # the node's kubelet /metrics, with the API server's kubelet-client certificate
        pod = json.loads(cluster.kubectl("get", "pods", "-l", "app=topburn", "-o", "json").stdout)["items"][0]
        node = json.loads(cluster.kubectl("get", "node", pod["spec"]["nodeName"], "-o", "json").stdout)
        ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
        port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
        tls = cluster.data_dir / "server" / "tls"
        ctx = ssl.create_default_context(cafile=str(tls / "ca.crt"))  # the kubelet's, for its IP
        ctx.load_cert_chain(str(tls / "kubelet-client.crt"), str(tls / "kubelet-client.key"))
        text = httpx.get(f"https://{ip}:{port}/metrics", verify=ctx, timeout=10).text
        samples = {
            (s.name, s.labels.get("operation_type", "")): s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
        }
        assert samples[("kubelet_runtime_operations_total", "create_container")] >= 1
        assert samples[("kubelet_pod_start_duration_seconds_count", "")] >= 1
    finally:
        cluster.kubectl("delete", "deployment", "topburn", check=False)


def test_hpa_scales_a_burning_deployment_up_and_down(cluster: Cluster) -> None:
    _burner(cluster, "hpaburn", 1)
    try:
        cluster.kubectl(
            "autoscale", "deployment", "hpaburn", "--cpu-percent=50", "--min=1", "--max=3", real=True
        )
        cluster.kubectl(
            "patch",
            "hpa",
            "hpaburn",
            "--type=merge",
            "-p",
            json.dumps({"spec": {"behavior": {"scaleDown": {"stabilizationWindowSeconds": 5}}}}),
        )

        def hpa() -> dict[str, Any]:
            out: dict[str, Any] = json.loads(cluster.kubectl("get", "hpa", "hpaburn", "-o", "json").stdout)
            return out

        def scaled_up() -> dict[str, Any] | None:
            h = hpa()
            return h if (h.get("status") or {}).get("desiredReplicas", 0) >= 2 else None

        up = wait_for(scaled_up, 120, "the HPA to scale the burner up", interval=1)
        util = up["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"]
        assert util > 50, up["status"]
        conds = {c["type"]: c for c in up["status"]["conditions"]}
        assert (
            conds["ScalingActive"]["status"] == "True"
            and conds["ScalingActive"]["reason"] == "ValidMetricFound"
        )
        wait_for(
            lambda: (
                json.loads(cluster.kubectl("get", "deployment", "hpaburn", "-o", "json").stdout)["spec"][
                    "replicas"
                ]
                >= 2
            ),
            30,
            "the Deployment's replicas raised through /scale",
            interval=1,
        )
        table = cluster.kubectl("get", "hpa", "hpaburn", real=True).stdout
        assert "Deployment/hpaburn" in table and "/50%" in table
        events = cluster.kubectl(
            "get", "events", "--field-selector", "involvedObject.name=hpaburn", "-o", "json"
        )
        assert any(e["reason"] == "SuccessfulRescale" for e in json.loads(events.stdout)["items"])

        # a target far above the usage: below target, scaled down after the 5 s window
        cluster.kubectl(
            "patch",
            "hpa",
            "hpaburn",
            "--type=merge",
            "-p",
            json.dumps(
                {
                    "spec": {
                        "metrics": [
                            {
                                "type": "Resource",
                                "resource": {
                                    "name": "cpu",
                                    "target": {"type": "Utilization", "averageUtilization": 1000},
                                },
                            }
                        ]
                    }
                }
            ),
        )
        wait_for(
            lambda: (hpa().get("status") or {}).get("desiredReplicas") == 1,
            90,
            "the HPA to scale back to 1",
            interval=1,
        )
        wait_for(
            lambda: (
                json.loads(cluster.kubectl("get", "deployment", "hpaburn", "-o", "json").stdout)["spec"][
                    "replicas"
                ]
                == 1
            ),
            30,
            "the Deployment back at 1 replica",
            interval=1,
        )
    finally:
        cluster.kubectl("delete", "hpa", "hpaburn", check=False)
        cluster.kubectl("delete", "deployment", "hpaburn", check=False)

"""A memory HPA on the real 2-node cluster: the PodMetrics working set of an idle busybox reaches the
HPA controller, a memory AverageValue target below it scales the Deployment up even though the
memory Utilization metric beside it would scale down (the largest proposal wins), and status
currentMetrics reports both memory metrics."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import Cluster
from tests.e2e.manifests import deployment
from tests.polling import wait_for


def _deployment(name: str) -> dict[str, Any]:
    idle = {
        "name": "idle",
        "image": "busybox:1.35",
        "command": ["sleep", "3600"],
        "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}},
    }
    return deployment(name, 1, idle)


def _hpa(name: str) -> dict[str, Any]:
    def memory(target: dict[str, Any]) -> dict[str, Any]:
        return {"type": "Resource", "resource": {"name": "memory", "target": target}}

    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": 1,
            "maxReplicas": 2,
            "metrics": [
                memory({"type": "Utilization", "averageUtilization": 90}),  # an idle shell: far below
                memory({"type": "AverageValue", "averageValue": "1Ki"}),  # any working set is above
            ],
        },
    }


def test_memory_average_value_scales_up_and_reports_both_metrics(cluster: Cluster) -> None:
    name = "hpamem"
    try:
        cluster.kubectl("apply", "-f", "-", input=json.dumps(_deployment(name)))
        cluster.kubectl("apply", "-f", "-", input=json.dumps(_hpa(name)), real=True)

        def scaled() -> dict[str, Any] | None:
            h: dict[str, Any] = json.loads(cluster.kubectl("get", "hpa", name, "-o", "json").stdout)
            status = h.get("status") or {}
            return status if status.get("desiredReplicas", 0) == 2 else None

        status = wait_for(scaled, 120, "the memory HPA to scale up", interval=1)
        current = [m["resource"] for m in status["currentMetrics"]]
        assert [m["name"] for m in current] == ["memory", "memory"], status
        assert 0 <= current[0]["current"]["averageUtilization"] < 90, status
        assert set(current[1]["current"]) == {"averageValue"}, status
        conds = {c["type"]: c for c in status["conditions"]}
        assert conds["ScalingActive"]["reason"] == "ValidMetricFound", status
        assert conds["ScalingActive"]["message"].endswith("from memory resource"), status
        wait_for(
            lambda: (
                json.loads(cluster.kubectl("get", "deployment", name, "-o", "json").stdout)["spec"][
                    "replicas"
                ]
                == 2
            ),
            30,
            "the Deployment's replicas raised through /scale",
            interval=1,
        )
    finally:
        cluster.kubectl("delete", "hpa", name, check=False)
        cluster.kubectl("delete", "deployment", name, check=False)

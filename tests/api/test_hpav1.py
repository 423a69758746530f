"""api.hpav1: kube's autoscaling/v1 <-> v2 conversion of an HPA, as pure functions: what v1 cannot
say travels in kube's annotations and comes back whole."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from api import hpav1

RICH_V2: dict[str, Any] = {
    "kind": "HorizontalPodAutoscaler",
    "apiVersion": "autoscaling/v2",
    "metadata": {"name": "web", "namespace": "ns", "annotations": {"team": "a"}},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 2,
        "maxReplicas": 9,
        "metrics": [
            {
                "type": "Resource",
                "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}},
            },
            {
                "type": "Pods",
                "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}},
            },
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}},
            },
        ],
        "behavior": {
            "scaleUp": {
                "stabilizationWindowSeconds": 0,
                "selectPolicy": "Max",
                "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}],
            },
            "scaleDown": {
                "stabilizationWindowSeconds": 300,
                "selectPolicy": "Min",
                "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}],
            },
        },
    },
    "status": {
        "observedGeneration": 3,
        "currentReplicas": 2,
        "desiredReplicas": 3,
        "currentMetrics": [
            {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "80Mi"}}},
            {"type": "Pods", "pods": {"metric": {"name": "qps"}, "current": {"averageValue": "12"}}},
            {
                "type": "Resource",
                "resource": {"name": "cpu", "current": {"averageValue": "120m", "averageUtilization": 71}},
            },
        ],
        "conditions": [
            {
                "type": "AbleToScale",
                "status": "True",
                "lastTransitionTime": "2026-12-05T08:00:00Z",
                "reason": "ReadyForNewScale",
            }
        ],
    },
}


def test_v1_shape_of_a_rich_v2_object() -> None:
    v1 = hpav1.from_v2(RICH_V2)
    assert v1["apiVersion"] == "autoscaling/v1"
    assert v1["spec"] == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 2,
        "maxReplicas": 9,
        "targetCPUUtilizationPercentage": 60,
    }
    assert v1["status"] == {
        "observedGeneration": 3,
        "currentReplicas": 2,
        "desiredReplicas": 3,
        "currentCPUUtilizationPercentage": 71,
    }
    notes = v1["metadata"]["annotations"]
    assert notes["team"] == "a"
    # the CPU utilisation target is v1's own field; the other metrics in v1's MetricSpec form
    assert json.loads(notes[hpav1.METRICS]) == [
        {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "100Mi"}},
        {"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "10"}},
    ]
    assert json.loads(notes[hpav1.CURRENT_METRICS])[2] == {
        "type": "Resource",
        "resource": {"name": "cpu", "currentAverageUtilization": 71, "currentAverageValue": "120m"},
    }
    assert notes[hpav1.BEHAVIOR].startswith(
        '{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":[{"Type":"Pods"'
    )
    assert json.loads(notes[hpav1.CONDITIONS]) == RICH_V2["status"]["conditions"]
    assert RICH_V2["metadata"]["annotations"] == {"team": "a"}  # the argument is not mutated


def test_round_trip_through_v1_loses_nothing() -> None:
    back = hpav1.to_v2(hpav1.from_v2(RICH_V2))
    # v1 puts the CPU target after the annotation's metrics, as kube's conversion does
    expected = json.loads(json.dumps(RICH_V2))
    metrics = expected["spec"]["metrics"]
    assert back["spec"]["metrics"] == [metrics[0], metrics[1], metrics[2]]
    assert back == expected


@pytest.mark.parametrize(
    ("metric", "v1"),
    [
        (
            {
                "type": "Object",
                "object": {
                    "describedObject": {"kind": "Service", "name": "s"},
                    "metric": {"name": "rps"},
                    "target": {"type": "Value", "value": "5"},
                },
            },
            {
                "type": "Object",
                "object": {
                    "target": {"kind": "Service", "name": "s"},
                    "metricName": "rps",
                    "targetValue": "5",
                },
            },
        ),
        (
            {
                "type": "External",
                "external": {
                    "metric": {"name": "q", "selector": {"matchLabels": {"a": "b"}}},
                    "target": {"type": "AverageValue", "averageValue": "3"},
                },
            },
            {
                "type": "External",
                "external": {
                    "metricName": "q",
                    "metricSelector": {"matchLabels": {"a": "b"}},
                    "targetAverageValue": "3",
                },
            },
        ),
        (
            {
                "type": "ContainerResource",
                "containerResource": {
                    "name": "cpu",
                    "container": "app",
                    "target": {"type": "Utilization", "averageUtilization": 50},
                },
            },
            {
                "type": "ContainerResource",
                "containerResource": {"name": "cpu", "targetAverageUtilization": 50, "container": "app"},
            },
        ),
    ],
)
def test_each_metric_source_both_ways(metric: dict[str, Any], v1: dict[str, Any]) -> None:
    obj = {**RICH_V2, "spec": {**RICH_V2["spec"], "metrics": [metric]}, "status": {"desiredReplicas": 1}}
    served = hpav1.from_v2(obj)
    assert json.loads(served["metadata"]["annotations"][hpav1.METRICS]) == [v1]
    assert "targetCPUUtilizationPercentage" not in served["spec"]
    assert hpav1.to_v2(served)["spec"]["metrics"] == [metric]


def test_v1_without_a_target_means_cpu_at_80() -> None:
    v2 = hpav1.to_v2({"apiVersion": "autoscaling/v1", "metadata": {"name": "a"}, "spec": {"maxReplicas": 3}})
    assert v2["spec"]["metrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
        }
    ]
    assert "annotations" not in v2["metadata"]
    assert v2["status"] == {"desiredReplicas": 0}


def test_a_malformed_annotation_is_a_value_error() -> None:
    def hpa(annotations: dict[str, str]) -> dict[str, Any]:
        return {"metadata": {"name": "a", "annotations": annotations}, "spec": {"maxReplicas": 3}}

    with pytest.raises(ValueError, match=re.escape(hpav1.METRICS)):
        hpav1.to_v2(hpa({hpav1.METRICS: "{not json"}))
    with pytest.raises(ValueError, match="list of objects"):
        hpav1.to_v2(hpa({hpav1.CONDITIONS: '{"type": "x"}'}))

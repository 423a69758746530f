"""One metric spec to a proposal (controller/hpa_metrics.py): memory and cpu Resource metrics with
Utilization and AverageValue targets read the PodMetrics usage of their resource, fill the status
entry kube writes, and every other metric type is refused with a reason named after its type."""

from __future__ import annotations

from typing import Any

import pytest

from controller.hpa_metrics import MetricFailure, format_milli, pod_sample, propose

Obj = dict[str, Any]


def _pod(i: int, ready: bool = True, phase: str = "Running") -> Obj:
    return {
        "metadata": {"name": f"web-{i}"},
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def _usage(i: int, cpu: str, memory: str) -> Obj:
    return {
        "metadata": {"name": f"web-{i}"},
        "containers": [{"name": "c", "usage": {"cpu": cpu, "memory": memory}}],
    }


def _resource(name: str, **target: Any) -> Obj:
    return {"type": "Resource", "resource": {"name": name, "target": target}}


def test_format_milli_is_the_canonical_decimal_si_quantity() -> None:
    assert [format_milli(v) for v in (0, 100, 1500, 2000, 64_000_000_000, 100 * 1024 * 1024 * 1000)] == [
        "0",
        "100m",
        "1500m",
        "2",
        "64M",
        "104857600",
    ]


def test_memory_utilization_proposal_and_status() -> None:
    pods = [_pod(0), _pod(1)]
    metrics = [_usage(0, "10m", "96Mi"), _usage(1, "10m", "96Mi")]
    p = propose(2, _resource("memory", type="Utilization", averageUtilization=60), pods, metrics)
    assert p.replicas == 5  # 150% of the 64Mi request against 60%
    assert p.name == "memory resource utilization (percentage of request)"
    assert p.status == {
        "type": "Resource",
        "resource": {"name": "memory", "current": {"averageUtilization": 150, "averageValue": "100663296"}},
    }


def test_average_value_targets_for_memory_and_cpu() -> None:
    pods = [_pod(0), _pod(1)]
    metrics = [_usage(0, "300m", "200Mi"), _usage(1, "100m", "200Mi")]
    mem = propose(2, _resource("memory", type="AverageValue", averageValue="100Mi"), pods, metrics)
    assert (mem.replicas, mem.name) == (4, "memory resource")
    assert mem.status["resource"] == {"name": "memory", "current": {"averageValue": "209715200"}}
    cpu = propose(2, _resource("cpu", type="AverageValue", averageValue="100m"), pods, metrics)
    assert cpu.replicas == 4 and cpu.status["resource"]["current"] == {"averageValue": "200m"}


def test_unready_pods_hold_back_cpu_samples_only() -> None:
    # kube's groupPods: readiness only matters for cpu; Pending is unready for every resource
    unready = _pod(0, ready=False)
    assert not pod_sample(unready, 1.0, "cpu").ready
    assert pod_sample(unready, 1.0, "memory").ready
    assert not pod_sample(_pod(0, phase="Pending"), None, "memory").ready
    assert pod_sample(_pod(0), None, "memory").request_milli == 64 * 1024 * 1024 * 1000


def test_failures_name_their_metric_and_type() -> None:
    pods, metrics = [_pod(0)], [_usage(0, "10m", "1Mi")]
    for kind, reason in [
        ("Pods", "FailedGetPodsMetric"),
        ("Object", "FailedGetObjectMetric"),
        ("External", "FailedGetExternalMetric"),
        ("ContainerResource", "FailedGetContainerResourceMetric"),
    ]:
        with pytest.raises(MetricFailure, match=f"{kind} metrics are not supported") as e:
            propose(1, {"type": kind}, pods, metrics)
        assert e.value.reason == reason
    no_request = {**_pod(0), "spec": {"containers": [{"name": "c"}]}}
    with pytest.raises(MetricFailure, match="failed to get memory utilization: missing request for memory"):
        propose(1, _resource("memory", type="Utilization", averageUtilization=50), [no_request], metrics)
    with pytest.raises(
        MetricFailure, match="failed to get memory usage: unable to get metrics for resource memory: down"
    ):
        propose(1, _resource("memory", type="AverageValue", averageValue="1Mi"), pods, "down")
    with pytest.raises(MetricFailure, match="neither an average utilization target nor an average value"):
        propose(1, _resource("memory", type="Utilization"), pods, metrics)

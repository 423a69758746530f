"""The HPA controller's shell (controller/hpa.py) over a recording client: it reads /scale and
PodMetrics, writes the Scale when the count changes, and recomputes status and conditions from what
it observed (missing requests and missing scale targets become False conditions, not crashes)."""

from __future__ import annotations

import asyncio
from typing import Any

from controller.hpa import HorizontalPodAutoscalerController

Obj = dict[str, Any]


class _Informer:
    def __init__(self, objs: list[Obj]) -> None:
        self.objs = objs

    def add_handlers(self, *handlers: Any) -> None:
        pass

    def get(self, key: str) -> Obj | None:
        return next(
            (o for o in self.objs if f"{o['metadata']['namespace']}/{o['metadata']['name']}" == key), None
        )

    def list(self, namespace: str | None = None) -> list[Obj]:
        return self.objs


class _Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def record(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        self.seen.append((reason, message))


class _Client:
    def __init__(self, replicas: int, usage_milli: int, found: bool = True, memory: str = "1Mi") -> None:
        self.replicas, self.usage, self.found, self.memory = replicas, usage_milli, found, memory
        self.scale_writes: list[int] = []
        self.statuses: list[Obj] = []

    async def get(
        self, r: Any, name: str, namespace: str | None = None, subresource: str | None = None
    ) -> Obj:
        from api.errors import not_found

        if not self.found:
            raise not_found("deployments", name, "apps")
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": self.replicas},
            "status": {"replicas": self.replicas, "selector": "app=web"},
        }

    async def list(self, r: Any, namespace: str | None = None, **kw: Any) -> Obj:
        assert kw.get("label_selector") == "app=web"
        return {
            "items": [
                {
                    "metadata": {"name": f"web-{i}", "namespace": namespace},
                    "containers": [{"name": "c", "usage": {"cpu": f"{self.usage}m", "memory": self.memory}}],
                }
                for i in range(self.replicas)
            ]
        }

    async def update(
        self, r: Any, obj: Obj, namespace: str | None = None, subresource: str | None = None, **kw: Any
    ) -> Obj:
        if subresource == "scale":
            self.scale_writes.append(obj["spec"]["replicas"])
        else:
            self.statuses.append(obj["status"])
        return obj


def _pod(i: int, request: str | None = "100m") -> Obj:
    resources = {"requests": {"cpu": request, "memory": "64Mi"}} if request else {}
    return {
        "metadata": {"name": f"web-{i}", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "resources": resources}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }


CPU_50 = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
}
MEMORY_60 = {
    "type": "Resource",
    "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 60}},
}
PODS_METRIC = {
    "type": "Pods",
    "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}},
}


def _hpa(*metrics: Obj) -> Obj:
    return {
        "metadata": {"name": "web", "namespace": "default", "generation": 1},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": list(metrics or [CPU_50]),
        },
        "status": {"desiredReplicas": 0},
    }


def _run(client: _Client, pods: list[Obj], hpa: Obj | None = None) -> _Events:
    events = _Events()
    ctl = HorizontalPodAutoscalerController(
        client,  # type: ignore[arg-type]
        _Informer([hpa or _hpa()]),  # type: ignore[arg-type]
        _Informer(pods),  # type: ignore[arg-type]
        events,  # type: ignore[arg-type]
        sync_period=60,
    )

    async def once() -> None:
        await ctl.sync("default/web")
        ctl.queue.shutdown()

    asyncio.run(once())
    return events


def test_scales_up_and_reports_status() -> None:
    client = _Client(replicas=2, usage_milli=100)  # 100% of a 100m request against 50%
    events = _run(client, [_pod(0), _pod(1)])
    assert client.scale_writes == [4]
    status = client.statuses[-1]
    assert (status["currentReplicas"], status["desiredReplicas"], status["observedGeneration"]) == (2, 4, 1)
    assert status["currentMetrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "current": {"averageUtilization": 100, "averageValue": "100m"}},
        }
    ]
    conds = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conds == {
        "AbleToScale": ("True", "SucceededRescale"),
        "ScalingActive": ("True", "ValidMetricFound"),
        "ScalingLimited": ("False", "DesiredWithinRange"),
    }
    assert "lastScaleTime" in status
    assert events.seen[0] == (
        "SuccessfulRescale",
        "New size: 4; reason: cpu resource utilization (percentage of request) above target",
    )


def test_within_tolerance_keeps_the_count() -> None:
    client = _Client(replicas=2, usage_milli=52)
    _run(client, [_pod(0), _pod(1)])
    assert client.scale_writes == []
    conds = {c["type"]: c["reason"] for c in client.statuses[-1]["conditions"]}
    assert conds["AbleToScale"] == "ReadyForNewScale"


def test_missing_request_is_a_condition() -> None:
    client = _Client(replicas=1, usage_milli=100)
    events = _run(client, [_pod(0, request=None)])
    assert client.scale_writes == []
    conds = {c["type"]: c for c in client.statuses[-1]["conditions"]}
    assert (
        conds["ScalingActive"]["status"] == "False"
        and conds["ScalingActive"]["reason"] == "FailedGetResourceMetric"
    )
    assert "missing request for cpu in container c of Pod web-0" in conds["ScalingActive"]["message"]
    assert events.seen[0][0] == "FailedGetResourceMetric"


def test_missing_target_is_a_condition() -> None:
    client = _Client(replicas=1, usage_milli=100, found=False)
    _run(client, [])
    conds = {c["type"]: c for c in client.statuses[-1]["conditions"]}
    assert conds["AbleToScale"]["status"] == "False" and conds["AbleToScale"]["reason"] == "FailedGetScale"


def _conditions(client: _Client) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in client.statuses[-1]["conditions"]}


def test_memory_utilization_scales_and_the_largest_proposal_wins() -> None:
    # cpu 52% of request against 50% keeps 2; memory 96Mi of 64Mi (150%) against 60% proposes 5
    client = _Client(replicas=2, usage_milli=52, memory="96Mi")
    events = _run(client, [_pod(0), _pod(1)], _hpa(CPU_50, MEMORY_60))
    assert client.scale_writes == [4]  # 5, capped by the default scale-up rate max(2 x 2, 4)
    status = client.statuses[-1]
    assert [m["resource"]["name"] for m in status["currentMetrics"]] == ["cpu", "memory"]
    assert status["currentMetrics"][1]["resource"]["current"] == {
        "averageUtilization": 150,
        "averageValue": "100663296",
    }
    assert _conditions(client)["ScalingActive"] == ("True", "ValidMetricFound")
    active = next(c for c in status["conditions"] if c["type"] == "ScalingActive")
    assert active["message"].endswith("from memory resource utilization (percentage of request)")
    assert events.seen == [
        (
            "SuccessfulRescale",
            "New size: 4; reason: memory resource utilization (percentage of request) above target",
        )
    ]


def test_memory_average_value_target() -> None:
    client = _Client(replicas=2, usage_milli=10, memory="30Mi")
    average = {
        "type": "Resource",
        "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "10Mi"}},
    }
    _run(client, [_pod(0), _pod(1)], _hpa(average))
    assert client.scale_writes == [4]  # 30Mi against 10Mi: 6, capped at 4 this period
    assert client.statuses[-1]["currentMetrics"] == [
        {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "31457280"}}}
    ]


def test_unsupported_metric_beside_a_valid_one_still_scales_up() -> None:
    client = _Client(replicas=2, usage_milli=100)
    events = _run(client, [_pod(0), _pod(1)], _hpa(PODS_METRIC, CPU_50))
    assert client.scale_writes == [4]
    assert _conditions(client)["ScalingActive"] == ("True", "ValidMetricFound")
    assert events.seen[0] == (
        "FailedGetPodsMetric",
        "Pods metrics are not supported by kubelite (only Resource metrics)",
    )


def test_unsupported_metric_blocks_a_scale_down_and_alone_is_a_condition() -> None:
    client = _Client(replicas=4, usage_milli=5)  # cpu alone would scale down
    _run(client, [_pod(i) for i in range(4)], _hpa(CPU_50, PODS_METRIC))
    assert client.scale_writes == []
    assert _conditions(client)["ScalingActive"] == ("False", "FailedGetPodsMetric")
    alone = _Client(replicas=2, usage_milli=100)
    _run(alone, [_pod(0), _pod(1)], _hpa(PODS_METRIC))
    assert alone.scale_writes == []
    active = next(c for c in alone.statuses[-1]["conditions"] if c["type"] == "ScalingActive")
    assert (active["status"], active["reason"]) == ("False", "FailedGetPodsMetric")
    assert active["message"] == (
        "the HPA was unable to compute the replica count: "
        "Pods metrics are not supported by kubelite (only Resource metrics)"
    )


def test_out_of_range_replicas_move_to_the_bound_without_metrics() -> None:
    # kube's reconcileAutoscaler: below minReplicas (or above max) the bound is the answer, before
    # and whatever the metrics say (here none can be read: no pod has a request)
    low = _hpa()
    low["spec"]["minReplicas"] = 2
    client = _Client(replicas=1, usage_milli=100)
    events = _run(client, [_pod(0, request=None)], low)
    assert client.scale_writes == [2]
    assert events.seen == [
        ("SuccessfulRescale", "New size: 2; reason: Current number of replicas below Spec.MinReplicas")
    ]
    status = client.statuses[-1]
    assert (status["currentReplicas"], status["desiredReplicas"]) == (1, 2)
    client = _Client(replicas=7, usage_milli=100)
    events = _run(client, [_pod(i) for i in range(7)])
    assert client.scale_writes == [5]
    assert events.seen == [
        ("SuccessfulRescale", "New size: 5; reason: Current number of replicas above Spec.MaxReplicas")
    ]

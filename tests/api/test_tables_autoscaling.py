"""The HPA Targets column against kube's formatHPAMetrics: each metric type's form, current values
matched by position, `<unknown>` before a measurement, and two metrics shown then `+ N more...`."""

from __future__ import annotations

from typing import Any

from api.tables_autoscaling import format_targets


def resource(name: str, **target: Any) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": name, "target": target}}


def current(key: str, name: str | None = None, **value: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"current": value}
    if name:
        body["name"] = name
    return {"type": key[0].upper() + key[1:], key: body}


def test_resource_targets_show_the_current_value_of_their_own_kind() -> None:
    spec = {
        "metrics": [
            resource("cpu", type="Utilization", averageUtilization=50),
            resource("memory", type="AverageValue", averageValue="100Mi"),
        ]
    }
    assert format_targets(spec, {}) == "cpu: <unknown>/50%, memory: <unknown>/100Mi"
    status = {
        "currentMetrics": [
            current("resource", "cpu", averageUtilization=12, averageValue="60m"),
            current("resource", "memory", averageValue="64Mi"),
        ]
    }
    assert format_targets(spec, status) == "cpu: 12%/50%, memory: 64Mi/100Mi"


def test_other_metric_types_and_the_cut_after_two() -> None:
    spec = {
        "metrics": [
            {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"averageValue": "10"}}},
            {"type": "External", "external": {"metric": {"name": "q"}, "target": {"averageValue": "5"}}},
            {"type": "Object", "object": {"metric": {"name": "hits"}, "target": {"value": "7"}}},
        ]
    }
    status = {"currentMetrics": [current("pods", averageValue="3"), current("external", averageValue="2")]}
    assert format_targets(spec, status) == "3/10, 2/5 (avg) + 1 more..."
    spec["metrics"] = [*spec["metrics"][2:], resource("cpu", type="Utilization")]
    assert format_targets(spec, {}) == "<unknown>/7, cpu: <unknown>/<auto>"
    assert format_targets({}, {}) == "<none>"

"""Table columns of autoscaling/v2 HorizontalPodAutoscalers, as kube-apiserver's printer has them:
Name, Reference (`Deployment/web`), Targets (`cpu: 12%/50%`, `<unknown>` before a measurement), MinPods,
MaxPods, Replicas, Age.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import hpav1, tables

Obj = dict[str, Any]
_MAX_SHOWN = 2  # kube's formatHPAMetrics lists two metrics, then `+ N more...`
_UNKNOWN = "<unknown>"


def _current(status: Obj, index: int, key: str, field: str) -> str:
    """statuses[i].<key>.current.<field> as the printer shows it, `<unknown>` when absent."""
    current = status.get("currentMetrics") or []
    if index < len(current):
        value = (((current[index] or {}).get(key) or {}).get("current") or {}).get(field)
        if value is not None:
            return f"{value}%" if field == "averageUtilization" else str(value)
    return _UNKNOWN


def _resource_cell(src: Obj, status: Obj, index: int, key: str) -> str:
    """`cpu: 12%/50%` for a Utilization target (`<auto>` without one), `memory: 60Mi/100Mi` for
    an AverageValue target."""
    target = src.get("target") or {}
    name = src.get("name", "")
    if target.get("averageValue") is not None:
        return f"{name}: {_current(status, index, key, 'averageValue')}/{target['averageValue']}"
    utilization = target.get("averageUtilization")
    goal = f"{utilization}%" if utilization is not None else "<auto>"
    return f"{name}: {_current(status, index, key, 'averageUtilization')}/{goal}"


def _value_cell(src: Obj, status: Obj, index: int, key: str) -> str:
    """Object and External metrics: `current/target (avg)` for an AverageValue target, else the
    plain value."""
    target = src.get("target") or {}
    if target.get("averageValue") is not None:
        return f"{_current(status, index, key, 'averageValue')}/{target['averageValue']} (avg)"
    return f"{_current(status, index, key, 'value')}/{target.get('value')}"


def format_targets(spec: Obj, status: Obj) -> str:
    """The Targets column, as kube's printer formats spec.metrics against status.currentMetrics
    (matched by position, as there)."""
    parts = []
    metrics = spec.get("metrics") or []
    for i, m in enumerate(metrics[:_MAX_SHOWN]):
        kind = m.get("type")
        if kind == "Resource":
            parts.append(_resource_cell(m.get("resource") or {}, status, i, "resource"))
        elif kind == "ContainerResource":
            parts.append(_resource_cell(m.get("containerResource") or {}, status, i, "containerResource"))
        elif kind == "Pods":
            target = (m.get("pods") or {}).get("target") or {}
            parts.append(f"{_current(status, i, 'pods', 'averageValue')}/{target.get('averageValue')}")
        elif kind in ("Object", "External"):
            parts.append(_value_cell(m.get(kind.lower()) or {}, status, i, kind.lower()))
        else:
            parts.append("<unknown type>")
    text = ", ".join(parts) or "<none>"
    if len(metrics) > _MAX_SHOWN:
        text += f" + {len(metrics) - _MAX_SHOWN} more..."
    return text


def _hpa_row(obj: Obj, now: _dt.datetime) -> list[Any]:
    if obj.get("apiVersion") == hpav1.V1:  # printed from the v2 shape, as kube prints its internal type
        obj = hpav1.to_v2(obj)
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    low = spec.get("minReplicas")
    return [
        tables.name_cell(obj),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        format_targets(spec, status),
        "<unset>" if low is None else low,
        spec.get("maxReplicas", 0),
        status.get("currentReplicas", 0),
        tables.age_cell(obj, now),
    ]


tables.register(
    "horizontalpodautoscalers",
    [
        tables.NAME_COLUMN,
        {
            "name": "Reference",
            "type": "string",
            "format": "",
            "priority": 0,
            "description": "reference to scaled resource; horizontal pod autoscaler will learn the current resource "
            "consumption and will set the desired number of pods by using its Scale subresource.",
        },
        {
            "name": "Targets",
            "type": "string",
            "format": "",
            "priority": 0,
            "description": "metrics contains the specifications for which to use to calculate the desired replica count",
        },
        {
            "name": "MinPods",
            "type": "string",
            "format": "",
            "priority": 0,
            "description": "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale "
            "down.",
        },
        {
            "name": "MaxPods",
            "type": "integer",
            "format": "",
            "priority": 0,
            "description": "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale "
            "up.",
        },
        {
            "name": "Replicas",
            "type": "integer",
            "format": "",
            "priority": 0,
            "description": "currentReplicas is current number of replicas of pods managed by this autoscaler, as last "
            "seen by the autoscaler.",
        },
        tables.AGE_COLUMN,
    ],
    _hpa_row,
)

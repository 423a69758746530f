"""Table columns of autoscaling/v2 HorizontalPodAutoscalers, as kube-apiserver's printer has them:
Name, Reference (`Deployment/web`), Targets (`cpu: 12%/50%`, `<unknown>` before a measurement), MinPods,
MaxPods, Replicas, Age.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables

Obj = dict[str, Any]
_MAX_SHOWN = 4  # kube's printer lists up to four metrics, then `+ N more...`


def _current_utilization(status: Obj, index: int, name: str) -> str:
    current = status.get("currentMetrics") or []
    if index < len(current):
        res = (current[index] or {}).get("resource") or {}
        value = (res.get("current") or {}).get("averageUtilization")
        if res.get("name") == name and value is not None:
            return f"{value}%"
    return "<unknown>"


def format_targets(spec: Obj, status: Obj) -> str:
    parts = []
    metrics = spec.get("metrics") or []
    for i, m in enumerate(metrics[:_MAX_SHOWN]):
        kind = m.get("type")
        if kind in ("Resource", "ContainerResource"):
            src = m.get("resource" if kind == "Resource" else "containerResource") or {}
            target = src.get("target") or {}
            name = src.get("name", "")
            if target.get("averageUtilization") is not None:
                parts.append(
                    f"{name}: {_current_utilization(status, i, name)}/{target['averageUtilization']}%"
                )
            else:
                parts.append(f"{name}: <unknown>/{target.get('averageValue') or target.get('value')}")
        else:
            parts.append("<unknown>/<unknown>")
    text = ", ".join(parts) or "<none>"
    if len(metrics) > _MAX_SHOWN:
        text += f" + {len(metrics) - _MAX_SHOWN} more..."
    return text


def _hpa_row(obj: Obj, now: _dt.datetime) -> list[Any]:
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

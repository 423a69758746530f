"""autoscaling/v1 HorizontalPodAutoscaler <-> autoscaling/v2: one object in two shapes.

kube-apiserver serves HPAs in autoscaling/v2 (preferred) and v1 over one storage, and kubectl 1.27
to 1.32 `autoscale` creates v1 objects, as the HPA walkthrough's manifests do. v1 knows one
metric, `targetCPUUtilizationPercentage`; kube's conversion (pkg/apis/autoscaling/v1
conversion.go) keeps everything else v2 can say in annotations of the v1 object, so that a v1
client's read-modify-write loses nothing:

- `autoscaling.alpha.kubernetes.io/metrics`: the metrics other than a CPU utilisation target, in
  v1's MetricSpec form (`targetAverageUtilization`, `metricName` ...);
- `autoscaling.alpha.kubernetes.io/current-metrics`: every current metric, in v1's MetricStatus form;
- `autoscaling.alpha.kubernetes.io/conditions`: status.conditions;
- `autoscaling.alpha.kubernetes.io/behavior`: spec.behavior, as Go marshals kube's internal type
  (field names capitalised: `{"ScaleUp":{"StabilizationWindowSeconds":0,...}}`).

Writing v1 lifts them back out (a CPU target goes after the annotation's metrics, and no metric at
all means CPU at 80%, v1's implicit default); the v2 shape never carries them. v1's
`currentReplicas` and its metric sources' plain quantities are not optional: they are written as
0 / "0" where v2 has nothing. Pure; the functions never mutate their argument. `ValueError` means
an annotation that is not the JSON its key promises (a write the API server refuses).
"""

from __future__ import annotations

import json
from typing import Any

Obj = dict[str, Any]
V1 = "autoscaling/v1"
V2 = "autoscaling/v2"
METRICS = "autoscaling.alpha.kubernetes.io/metrics"
CURRENT_METRICS = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"
ROUND_TRIP = (METRICS, CURRENT_METRICS, CONDITIONS, BEHAVIOR)
STATUS_ANNOTATIONS = (CURRENT_METRICS, CONDITIONS)
DEFAULT_CPU_UTILIZATION = 80
_SOURCE_KEYS = {
    "Object": "object",
    "Pods": "pods",
    "Resource": "resource",
    "ContainerResource": "containerResource",
    "External": "external",
}
# internal HPAScalingRules / HPAScalingPolicy fields as Go's encoding/json names them (no tags)
_GO_RULES = {"stabilizationWindowSeconds": "StabilizationWindowSeconds", "selectPolicy": "SelectPolicy"}
_GO_POLICY = {"type": "Type", "value": "Value", "periodSeconds": "PeriodSeconds"}


def _pruned(d: Obj) -> Obj:
    return {k: v for k, v in d.items() if v is not None}


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _is_cpu_utilization(metric: Obj) -> bool:
    source = metric.get("resource") or {}
    return (
        metric.get("type") == "Resource"
        and source.get("name") == "cpu"
        and (source.get("target") or {}).get("averageUtilization") is not None
    )


# --- metrics: one table per direction of kube's field moves ----------------------------------------
# source kind -> (v1 field, its path in the v2 source, v1's value when v2 has none: non-optional
# fields of v1's structs are written as their zero) in v1's field order
Moves = tuple[tuple[str, tuple[str, ...], Any], ...]
_SPEC_MOVES: dict[str, Moves] = {
    "Object": (
        ("target", ("describedObject",), None),
        ("metricName", ("metric", "name"), ""),
        ("targetValue", ("target", "value"), "0"),
        ("selector", ("metric", "selector"), None),
        ("averageValue", ("target", "averageValue"), None),
    ),
    "Pods": (
        ("metricName", ("metric", "name"), ""),
        ("targetAverageValue", ("target", "averageValue"), "0"),
        ("selector", ("metric", "selector"), None),
    ),
    "Resource": (
        ("name", ("name",), ""),
        ("targetAverageUtilization", ("target", "averageUtilization"), None),
        ("targetAverageValue", ("target", "averageValue"), None),
    ),
    "External": (
        ("metricName", ("metric", "name"), ""),
        ("metricSelector", ("metric", "selector"), None),
        ("targetValue", ("target", "value"), None),
        ("targetAverageValue", ("target", "averageValue"), None),
    ),
}
_STATUS_MOVES: dict[str, Moves] = {
    "Object": (
        ("target", ("describedObject",), None),
        ("metricName", ("metric", "name"), ""),
        ("currentValue", ("current", "value"), "0"),
        ("selector", ("metric", "selector"), None),
        ("averageValue", ("current", "averageValue"), None),
    ),
    "Pods": (
        ("metricName", ("metric", "name"), ""),
        ("currentAverageValue", ("current", "averageValue"), "0"),
        ("selector", ("metric", "selector"), None),
    ),
    "Resource": (
        ("name", ("name",), ""),
        ("currentAverageUtilization", ("current", "averageUtilization"), None),
        ("currentAverageValue", ("current", "averageValue"), "0"),
    ),
    "External": (
        ("metricName", ("metric", "name"), ""),
        ("metricSelector", ("metric", "selector"), None),
        ("currentValue", ("current", "value"), "0"),
        ("currentAverageValue", ("current", "averageValue"), None),
    ),
}
_CONTAINER = (("container", ("container",), None),)  # ContainerResource: Resource's, then this
for _moves in (_SPEC_MOVES, _STATUS_MOVES):
    _moves["ContainerResource"] = _moves["Resource"] + _CONTAINER


def _target_type(kind: str, target: Obj) -> str:
    """The v2 target type a v1 metric source implies (kube's conversion functions)."""
    if target.get("averageUtilization") is not None:
        return "Utilization"
    if kind == "Object":
        return "AverageValue" if target.get("averageValue") is not None else "Value"
    if kind == "External":
        return "Value" if target.get("value") is not None else "AverageValue"
    return "AverageValue"


def _to_v1(metric: Obj, moves: dict[str, Moves]) -> Obj:
    kind = str(metric.get("type"))
    if kind not in moves:
        return {"type": kind}
    src = metric.get(_SOURCE_KEYS[kind]) or {}
    body: Obj = {}
    for name, path, zero in moves[kind]:
        value: Any = src
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            value = zero
        if value is not None:
            body[name] = value
    return {"type": kind, _SOURCE_KEYS[kind]: body}


def _to_v2(metric: Obj, moves: dict[str, Moves]) -> Obj:
    kind = str(metric.get("type"))
    if kind not in moves:
        return {"type": kind}
    src = metric.get(_SOURCE_KEYS[kind]) or {}
    body: Obj = {}
    for name, path, _ in moves[kind]:
        if src.get(name) is None:
            continue
        node = body
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = src[name]
    if moves is _SPEC_MOVES:
        target = body.setdefault("target", {})
        target["type"] = _target_type(kind, target)
    return {"type": kind, _SOURCE_KEYS[kind]: body}


# --- behavior: kube's internal type as Go marshals it -------------------------------------------


def _behavior_to_go(behavior: Obj) -> Obj:
    def rules(r: Any) -> Obj | None:
        if not isinstance(r, dict):
            return None
        out: Obj = {go: r.get(name) for name, go in _GO_RULES.items()}
        out["Policies"] = [
            {go: p.get(name) for name, go in _GO_POLICY.items()} for p in r.get("policies") or []
        ]
        if r.get("tolerance") is not None:
            out["Tolerance"] = r["tolerance"]
        return out

    return {"ScaleUp": rules(behavior.get("scaleUp")), "ScaleDown": rules(behavior.get("scaleDown"))}


def _behavior_from_go(go: Any) -> Obj:
    if not isinstance(go, dict):
        raise ValueError("not a JSON object")

    def rules(r: Any) -> Obj | None:
        if not isinstance(r, dict):
            return None
        out = _pruned({name: r.get(g) for name, g in _GO_RULES.items()})
        policies = r.get("Policies")
        if policies is not None:
            out["policies"] = [
                _pruned({name: p.get(g) for name, g in _GO_POLICY.items()})
                for p in policies
                if isinstance(p, dict)
            ]
        if r.get("Tolerance") is not None:
            out["tolerance"] = r["Tolerance"]
        return out

    return _pruned({"scaleUp": rules(go.get("ScaleUp")), "scaleDown": rules(go.get("ScaleDown"))})


# --- the object ---------------------------------------------------------------------------------


def from_v2(obj: Obj) -> Obj:
    """The v1 shape of a stored (v2) HPA."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    metrics = spec.get("metrics") or []
    out: Obj = {k: v for k, v in obj.items() if k not in ("spec", "status")}
    out["apiVersion"] = V1
    meta = dict(obj.get("metadata") or {})
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in ROUND_TRIP}
    v1_spec = _pruned(
        {
            "scaleTargetRef": spec.get("scaleTargetRef"),
            "minReplicas": spec.get("minReplicas"),
            "maxReplicas": spec.get("maxReplicas"),
        }
    )
    for metric in metrics:  # the first CPU resource metric is v1's target, if it is a utilisation
        source = metric.get("resource") or {}
        if metric.get("type") == "Resource" and source.get("name") == "cpu":
            utilization = (source.get("target") or {}).get("averageUtilization")
            if utilization is not None:
                v1_spec["targetCPUUtilizationPercentage"] = utilization
            break
    others = [_to_v1(m, _SPEC_MOVES) for m in metrics if not _is_cpu_utilization(m)]
    if others:
        annotations[METRICS] = _dumps(others)
    if spec.get("behavior") is not None:
        annotations[BEHAVIOR] = _dumps(_behavior_to_go(spec["behavior"]))
    current = status.get("currentMetrics") or []
    if current:
        annotations[CURRENT_METRICS] = _dumps([_to_v1(m, _STATUS_MOVES) for m in current])
    if status.get("conditions"):
        annotations[CONDITIONS] = _dumps(status["conditions"])
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out["metadata"] = meta
    out["spec"] = v1_spec
    v1_status = _pruned(
        {
            "observedGeneration": status.get("observedGeneration"),
            "lastScaleTime": status.get("lastScaleTime"),
            "currentReplicas": status.get("currentReplicas", 0),
            "desiredReplicas": status.get("desiredReplicas", 0),
        }
    )
    for metric in current:
        source = metric.get("resource") or {}
        utilization = (source.get("current") or {}).get("averageUtilization")
        if metric.get("type") == "Resource" and source.get("name") == "cpu" and utilization is not None:
            v1_status["currentCPUUtilizationPercentage"] = utilization
    out["status"] = v1_status
    return out


def _annotation_list(annotations: Obj, key: str) -> list[Obj]:
    try:
        value = json.loads(annotations[key])
    except (TypeError, json.JSONDecodeError) as e:
        raise ValueError(f"{key}: {e}") from None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"{key}: must be a JSON list of objects")
    return value


def to_v2(obj: Obj) -> Obj:
    """The v2 (stored) shape of an HPA written in v1; ValueError for a malformed annotation."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    out: Obj = {k: v for k, v in obj.items() if k not in ("spec", "status")}
    out["apiVersion"] = V2
    meta = dict(obj.get("metadata") or {})
    annotations = dict(meta.get("annotations") or {})
    v2_spec = _pruned(
        {
            "scaleTargetRef": spec.get("scaleTargetRef"),
            "minReplicas": spec.get("minReplicas"),
            "maxReplicas": spec.get("maxReplicas"),
        }
    )
    metrics = (
        [_to_v2(m, _SPEC_MOVES) for m in _annotation_list(annotations, METRICS)]
        if METRICS in annotations
        else []
    )
    cpu = spec.get("targetCPUUtilizationPercentage")
    if cpu is not None or not metrics:
        utilization = DEFAULT_CPU_UTILIZATION if cpu is None else cpu
        target = {"type": "Utilization", "averageUtilization": utilization}
        metrics.append({"type": "Resource", "resource": {"name": "cpu", "target": target}})
    v2_spec["metrics"] = metrics
    if BEHAVIOR in annotations:
        try:
            v2_spec["behavior"] = _behavior_from_go(json.loads(annotations[BEHAVIOR]))
        except (TypeError, json.JSONDecodeError) as e:
            raise ValueError(f"{BEHAVIOR}: {e}") from None
    v2_status = _pruned(
        {
            "observedGeneration": status.get("observedGeneration"),
            "lastScaleTime": status.get("lastScaleTime"),
            "currentReplicas": status.get("currentReplicas") or None,  # omitempty in v2
            "desiredReplicas": status.get("desiredReplicas", 0),
        }
    )
    if CURRENT_METRICS in annotations:  # more than currentCPUUtilizationPercentage can say
        v2_status["currentMetrics"] = [
            _to_v2(m, _STATUS_MOVES) for m in _annotation_list(annotations, CURRENT_METRICS)
        ]
    elif status.get("currentCPUUtilizationPercentage") is not None:
        current = {"averageUtilization": status["currentCPUUtilizationPercentage"]}
        v2_status["currentMetrics"] = [{"type": "Resource", "resource": {"name": "cpu", "current": current}}]
    if CONDITIONS in annotations:
        v2_status["conditions"] = _annotation_list(annotations, CONDITIONS)
    for key in ROUND_TRIP:
        annotations.pop(key, None)
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out["metadata"] = meta
    out["spec"] = v2_spec
    out["status"] = v2_status
    return out

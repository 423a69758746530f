"""Row of autoscaling/v2 HorizontalPodAutoscaler: kube's defaults, validation and status strategy.

Defaults are k8s.io/kubernetes pkg/apis/autoscaling/v2/defaults.go: `minReplicas` 1, no metrics
means CPU at 80% average utilisation, and a `behavior` that is given is completed rule by rule
(scale up: no stabilisation, the larger of 4 pods or 100% per 15 s; scale down: a 300 s window,
100% per 15 s). An HPA without `behavior` keeps none: the controller applies the same defaults.
Validation words its causes as pkg/apis/autoscaling/validation does. Status is written only
through /status and starts as the zero status v2 serialises (`{"desiredReplicas": 0}`).
"""

from __future__ import annotations

from typing import Any

from api import hpav1
from api.errors import Cause, field_invalid, field_not_supported, field_required
from apiserver.kinds import Obj, View, row

METRIC_TYPES = ["ContainerResource", "External", "Object", "Pods", "Resource"]
TARGET_TYPES = ["AverageValue", "Utilization", "Value"]
SCALE_UP_DEFAULT: Obj = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
SCALE_DOWN_DEFAULT: Obj = {
    "stabilizationWindowSeconds": 300,
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}
MAX_STABILIZATION = 3600
MAX_PERIOD = 1800


def _complete(rules: Any, default: Obj) -> Obj:
    out = dict(rules) if isinstance(rules, dict) else {}
    for key, value in default.items():
        if out.get(key) is None:
            out[key] = [dict(p) for p in value] if key == "policies" else value
    return out


def default_hpa(obj: Obj) -> None:
    annotations = (obj.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):  # v1's round-trip annotations never reach v2 (kube drops them)
        for key in hpav1.ROUND_TRIP:
            annotations.pop(key, None)
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    if not isinstance(spec, dict):
        return
    if spec.get("minReplicas") is None:
        spec["minReplicas"] = 1
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
            }
        ]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        behavior["scaleUp"] = _complete(behavior.get("scaleUp"), SCALE_UP_DEFAULT)
        behavior["scaleDown"] = _complete(behavior.get("scaleDown"), SCALE_DOWN_DEFAULT)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _target(target: Any, path: str) -> list[Cause]:
    if not isinstance(target, dict):
        return [field_required(path)]
    kind = target.get("type")
    if not kind:
        return [field_required(f"{path}.type")]
    if kind not in TARGET_TYPES:
        return [field_invalid(f"{path}.type", kind, "must be either Utilization, Value, or AverageValue")]
    causes: list[Cause] = []
    util = _int(target.get("averageUtilization"))
    if kind == "Utilization" and target.get("averageUtilization") is None:
        causes.append(
            field_required(
                f"{path}.averageUtilization", "must set `averageUtilization` for the target type Utilization"
            )
        )
    if util is not None and util <= 0:
        causes.append(field_invalid(f"{path}.averageUtilization", util, "must be greater than 0"))
    return causes


def _metric(metric: Any, path: str) -> list[Cause]:
    if not isinstance(metric, dict):
        return [field_required(path)]
    kind = metric.get("type")
    if not kind:
        return [field_required(f"{path}.type", "must specify a metric source type")]
    if kind not in METRIC_TYPES:
        return [field_not_supported(f"{path}.type", kind, METRIC_TYPES)]
    key = kind[0].lower() + kind[1:]
    source = metric.get(key)
    if not isinstance(source, dict):
        return [
            field_required(
                f"{path}.{key}", f"must populate information for the given metric source (type {kind})"
            )
        ]
    causes: list[Cause] = []
    if kind in ("Resource", "ContainerResource") and not source.get("name"):
        causes.append(field_required(f"{path}.{key}.name", "must specify a resource name"))
    if kind == "ContainerResource" and not source.get("container"):
        causes.append(field_required(f"{path}.{key}.container", "must specify a container"))
    if kind in ("Object", "Pods", "External") and not (source.get("metric") or {}).get("name"):
        causes.append(field_required(f"{path}.{key}.metric.name", "must specify a metric name"))
    return causes + _target(source.get("target"), f"{path}.{key}.target")


def _rules(rules: Any, path: str) -> list[Cause]:
    if not isinstance(rules, dict):
        return []
    causes: list[Cause] = []
    window = _int(rules.get("stabilizationWindowSeconds"))
    if window is not None and window < 0:
        causes.append(
            field_invalid(
                f"{path}.stabilizationWindowSeconds", window, "must be greater than or equal to zero"
            )
        )
    if window is not None and window > MAX_STABILIZATION:
        causes.append(
            field_invalid(
                f"{path}.stabilizationWindowSeconds",
                window,
                f"must be less than or equal to {MAX_STABILIZATION}",
            )
        )
    policy = rules.get("selectPolicy")
    if policy is not None and policy not in ("Max", "Min", "Disabled"):
        causes.append(field_not_supported(f"{path}.selectPolicy", policy, ["Disabled", "Max", "Min"]))
    for i, p in enumerate(rules.get("policies") or []):
        pp = f"{path}.policies[{i}]"
        if not isinstance(p, dict):
            continue
        if p.get("type") not in ("Pods", "Percent"):
            causes.append(field_not_supported(f"{pp}.type", p.get("type"), ["Percent", "Pods"]))
        value, period = _int(p.get("value")), _int(p.get("periodSeconds"))
        if value is None or value <= 0:
            causes.append(field_invalid(f"{pp}.value", p.get("value"), "must be greater than zero"))
        if period is None or period <= 0:
            causes.append(
                field_invalid(f"{pp}.periodSeconds", p.get("periodSeconds"), "must be greater than zero")
            )
        elif period > MAX_PERIOD:
            causes.append(
                field_invalid(f"{pp}.periodSeconds", period, f"must be less than or equal to {MAX_PERIOD}")
            )
    return causes


def validate_hpa(obj: Obj) -> list[Cause]:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    causes: list[Cause] = []
    ref = spec.get("scaleTargetRef")
    if not isinstance(ref, dict):
        causes.append(field_required("spec.scaleTargetRef"))
    else:
        for key in ("kind", "name"):
            if not ref.get(key):
                causes.append(field_required(f"spec.scaleTargetRef.{key}"))
            elif "/" in str(ref[key]) or str(ref[key]) in (".", ".."):
                causes.append(field_invalid(f"spec.scaleTargetRef.{key}", ref[key], "may not contain '/'"))
    low, high = _int(spec.get("minReplicas")), _int(spec.get("maxReplicas"))
    if low is not None and low < 1:
        causes.append(field_invalid("spec.minReplicas", low, "must be greater than or equal to 1"))
    if high is None or high < 1:
        causes.append(field_invalid("spec.maxReplicas", spec.get("maxReplicas"), "must be greater than 0"))
    elif low is not None and low > high:
        causes.append(
            field_invalid("spec.maxReplicas", high, "must be greater than or equal to `minReplicas`")
        )
    for i, metric in enumerate(spec.get("metrics") or []):
        causes += _metric(metric, f"spec.metrics[{i}]")
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        causes += _rules(behavior.get("scaleUp"), "spec.behavior.scaleUp")
        causes += _rules(behavior.get("scaleDown"), "spec.behavior.scaleDown")
    return causes


def _reset_status(obj: Obj) -> None:
    obj["status"] = {"desiredReplicas": 0}


row(
    "horizontalpodautoscalers",
    "autoscaling",
    status_separate=True,
    generation=True,
    prepare_create=_reset_status,
    defaults=default_hpa,
    validate=validate_hpa,
)


# --- autoscaling/v1: the same objects through `api.hpav1`; held to v2's rules after conversion,
# so a cause names the field kube's internal type has (`spec.metrics[0].resource.target...`)


def _v1_defaults(obj: Obj) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict) and spec.get("minReplicas") is None:
        spec["minReplicas"] = 1


def _v1_validate(obj: Obj) -> list[Cause]:
    try:
        return validate_hpa(_v1_stored(obj))
    except ValueError as e:
        return [field_invalid("metadata.annotations", "", str(e))]


def _v1_stored(obj: Obj) -> Obj:
    stored = hpav1.to_v2(obj)
    default_hpa(stored)
    return stored


def _v1_reset_status(obj: Obj) -> None:
    annotations = (obj.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        for key in hpav1.STATUS_ANNOTATIONS:
            annotations.pop(key, None)
    obj["status"] = {"currentReplicas": 0, "desiredReplicas": 0}


def _v1_keep_status(new: Obj, old: Obj) -> None:
    """A main write keeps the stored status, and in v1 part of it lives in annotations."""
    old_annotations = (old.get("metadata") or {}).get("annotations") or {}
    meta = new["metadata"]
    annotations = dict(meta.get("annotations") or {})
    for key in hpav1.STATUS_ANNOTATIONS:
        if key in old_annotations:
            annotations[key] = old_annotations[key]
        else:
            annotations.pop(key, None)
    if annotations or "annotations" in meta:
        meta["annotations"] = annotations


row(
    "horizontalpodautoscalers",
    "autoscaling",
    version="v1",
    status_separate=True,
    generation=True,
    prepare_create=_v1_reset_status,
    prepare_update=_v1_keep_status,
    defaults=_v1_defaults,
    validate=_v1_validate,
    view=View(hpav1.from_v2, _v1_stored, {}),
)

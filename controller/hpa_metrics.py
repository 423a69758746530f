"""One HPA metric spec turned into a replica proposal and its status entry (pure; kube's horizontal.go
computeReplicasForMetrics / computeStatusForResourceMetric over metrics.k8s.io PodMetrics).

Resource metrics (cpu, memory, any resource the PodMetrics carry) with a `Utilization` target use the
pods' requests of that resource; with an `AverageValue` target they use the average usage per pod.
Usage and requests are milli-units, as kube's metrics client reads them (MilliValue), and the status
`averageValue` is that milli-value written back as a DecimalSI quantity. The other metric types
(Pods, Object, External, ContainerResource) have no source here and are refused with a reason named
after kube's for that type, so the HPA's ScalingActive condition says plainly why.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.conditions import is_ready
from api.quantity import to_milli
from controller import hpa_decisions as d
from controller.base import Obj, meta

_UNSUPPORTED_REASONS = {
    "Pods": "FailedGetPodsMetric",
    "Object": "FailedGetObjectMetric",
    "External": "FailedGetExternalMetric",
    "ContainerResource": "FailedGetContainerResourceMetric",
}
_SUFFIXES = ("", "k", "M", "G", "T", "P", "E")


class MetricFailure(Exception):
    """This metric gives no proposal: `reason` is the condition/event reason, str() the message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Proposal:
    replicas: int
    name: str  # how events and conditions name the metric, e.g. "memory resource utilization (...)"
    status: Obj  # the status.currentMetrics entry


def format_milli(value: int) -> str:
    """A milli-value as the canonical DecimalSI quantity (resource.NewMilliQuantity(v).String())."""
    if value % 1000:
        return f"{value}m"
    whole, index = value // 1000, 0
    while whole and whole % 1000 == 0 and index < len(_SUFFIXES) - 1:
        whole, index = whole // 1000, index + 1
    return f"{whole}{_SUFFIXES[index]}"


def pod_sample(pod: Obj, usage_milli: float | None, resource: str = "cpu") -> d.PodSample:
    """One pod as the calculator sees it: its requests of `resource`, usage, readiness (pure).

    Only cpu samples of unready pods are held back (kube's groupPods): a pod's memory is real
    whether or not it passes its readiness probe; a Pending pod counts as unready for every resource."""
    m, status = meta(pod), pod.get("status") or {}
    request, missing = 0, ""
    for c in (pod.get("spec") or {}).get("containers") or []:
        value = ((c.get("resources") or {}).get("requests") or {}).get(resource)
        if value is None:
            missing = missing or c.get("name", "")
        else:
            request += to_milli(value)
    ignored = bool(m.get("deletionTimestamp")) or status.get("phase") == "Failed"
    if resource == "cpu":
        ready = is_ready(pod) and status.get("phase") == "Running"
    else:
        ready = status.get("phase") != "Pending"
    return d.PodSample(
        m.get("name", ""), request, usage_milli, ready, ignored=ignored, missing_request=missing
    )


def usage_milli(pod_metrics: Obj, resource: str) -> float:
    """A PodMetrics' usage of `resource`, summed over its containers, in milli-units."""
    return sum(
        to_milli((c.get("usage") or {}).get(resource, "0")) for c in pod_metrics.get("containers") or []
    )


def propose(current: int, metric: Obj, pods: list[Obj], pod_metrics: list[Obj] | str) -> Proposal:
    """The replica proposal of one metric spec; `pod_metrics` is the PodMetrics list or the error
    listing them gave. Raises MetricFailure."""
    kind = metric.get("type") or ""
    if kind != "Resource":
        raise MetricFailure(
            _UNSUPPORTED_REASONS.get(kind, "InvalidMetricSourceType"),
            f"{kind or 'untyped'} metrics are not supported by kubelite (only Resource metrics)",
        )
    source = metric.get("resource") or {}
    resource, target = str(source.get("name") or ""), source.get("target") or {}
    reason = "FailedGetResourceMetric"
    raw = target.get("averageValue") is not None
    what = "usage" if raw else "utilization"
    if not raw and target.get("averageUtilization") is None:
        raise MetricFailure(
            reason,
            "invalid resource metric source: neither an average utilization target nor an average "
            "value (usage) target was set",
        )
    if isinstance(pod_metrics, str):
        raise MetricFailure(
            reason,
            f"failed to get {resource} {what}: unable to get metrics for resource {resource}: {pod_metrics}",
        )
    usage = {meta(x).get("name"): usage_milli(x, resource) for x in pod_metrics}
    samples = [
        pod_sample(p, usage.get(meta(p).get("name")), resource)
        for p in pods
        if (p.get("status") or {}).get("phase") != "Succeeded"
    ]
    try:
        if raw:
            rec = d.average_value_replicas(current, samples, to_milli(target["averageValue"]))
        else:
            rec = d.utilization_replicas(current, samples, int(target["averageUtilization"]), resource)
    except d.MetricsError as e:
        raise MetricFailure(reason, f"failed to get {resource} {what}: {e}") from None
    current_value: Obj = {"averageValue": format_milli(rec.usage_milli)}
    if rec.utilization is not None:
        current_value = {"averageUtilization": rec.utilization, **current_value}
    name = f"{resource} resource" if raw else f"{resource} resource utilization (percentage of request)"
    status = {"type": "Resource", "resource": {"name": resource, "current": current_value}}
    return Proposal(rec.replicas, name, status)

"""The horizontal pod autoscaler's arithmetic, as pure functions (kube's replica_calculator.go and
horizontal.go for Resource metrics: cpu and memory, Utilization or AverageValue targets).

`utilization_replicas` is GetResourceReplicas: utilisation = sum(usage) / sum(requests) of the pods that
are ready and measured; within the 10% tolerance nothing moves; otherwise desired =
ceil(ratio * ready pods), after the missing-metrics rule (a pod without metrics counts as 100% of
its request when scaling down, 0% when scaling up; an unready pod counts 0% when scaling up), and a
rescale that the assumptions would flip or cancel is dropped. `average_value_replicas` is
GetRawResourceReplicas: the same rules over the average usage per pod against a fixed value (a pod
without metrics counts as the target when scaling down). `stabilize` and `limit` are the
normalisation of horizontal.go: without `behavior`, scale-down takes the highest recommendation of
the last 300 s and scale-up is capped at max(2 x current, 4); with `behavior`, each direction has
its window, and its policies cap the change per period (selectPolicy Max/Min/Disabled).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

TOLERANCE = 0.1
DEFAULT_DOWNSCALE_WINDOW = 300.0


class MetricsError(Exception):
    """No replica count can be computed (kube's FailedGetResourceMetric)."""


@dataclass
class PodSample:
    name: str
    request_milli: int  # sum of the containers' requests of the resource; 0 if any container has none
    usage_milli: float | None  # None: no metrics for this pod
    ready: bool  # cpu: Ready and Running; other resources: not Pending (kube's groupPods)
    ignored: bool = False  # being deleted or Failed: left out entirely
    missing_request: str = ""  # a container without a request for the resource


@dataclass
class Recommendation:
    replicas: int
    utilization: int | None  # percent of request, of the measured ready pods (None: AverageValue target)
    usage_milli: int  # average usage per measured pod


def _utilization_ratio(
    usage: dict[str, float], requests: dict[str, int], target: int
) -> tuple[float, int, int]:
    total_usage = sum(usage.values())
    total_request = sum(requests[p] for p in usage)
    if total_request <= 0:
        raise MetricsError("no metrics returned matched known pods")
    utilization = int(total_usage * 100 / total_request)
    return utilization / target, utilization, int(total_usage / max(1, len(usage)))


def _average_ratio(usage: dict[str, float], target_milli: int) -> tuple[float, int]:
    average = sum(usage.values()) / max(1, len(usage))
    return average / target_milli, int(average)


def _group(pods: list[PodSample]) -> tuple[dict[str, float], list[PodSample], list[PodSample]]:
    """(usage of the ready measured pods, unready measured pods, pods without metrics)."""
    live = [p for p in pods if not p.ignored]
    if not live:
        raise MetricsError("no pods returned by selector while calculating replica count")
    ready = {p.name: float(p.usage_milli) for p in live if p.usage_milli is not None and p.ready}
    unready = [p for p in live if p.usage_milli is not None and not p.ready]
    missing = [p for p in live if p.usage_milli is None]
    if not ready:
        raise MetricsError("did not receive metrics for targeted pods (pods might be unready)")
    return ready, unready, missing


def _settle(
    current: int,
    ratio: float,
    ready: dict[str, float],
    unready: list[PodSample],
    missing: list[PodSample],
    missing_on_scale_down: dict[str, float],
    ratio_of: Callable[[dict[str, float]], float],
    tolerance: float,
) -> int:
    """The replica count from a usage ratio, after kube's missing-metrics and unready-pod rules."""
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        if abs(1.0 - ratio) <= tolerance:
            return current
        return math.ceil(ratio * len(ready))
    assumed = dict(ready)
    for p in missing:
        assumed[p.name] = missing_on_scale_down[p.name] if ratio < 1.0 else 0.0
    if scale_up_with_unready:
        for p in unready:
            assumed[p.name] = 0.0
    new_ratio = ratio_of(assumed)
    if abs(1.0 - new_ratio) <= tolerance or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return current
    desired = math.ceil(new_ratio * len(assumed))
    if (new_ratio < 1.0 and desired > current) or (new_ratio > 1.0 and desired < current):
        return current
    return desired


def utilization_replicas(
    current: int,
    pods: list[PodSample],
    target_utilization: int,
    resource: str = "cpu",
    tolerance: float = TOLERANCE,
) -> Recommendation:
    """Desired replicas for a resource utilisation target, percent of request (GetResourceReplicas)."""
    live = [p for p in pods if not p.ignored]
    for p in live:
        if p.missing_request:
            raise MetricsError(
                f"missing request for {resource} in container {p.missing_request} of Pod {p.name}"
            )
    ready, unready, missing = _group(pods)
    requests = {p.name: p.request_milli for p in live}
    ratio, utilization, avg = _utilization_ratio(ready, requests, target_utilization)
    fallback = {p.name: float(p.request_milli) for p in missing}  # 100% of request on a scale-down
    replicas = _settle(
        current,
        ratio,
        ready,
        unready,
        missing,
        fallback,
        lambda u: _utilization_ratio(u, requests, target_utilization)[0],
        tolerance,
    )
    return Recommendation(replicas, utilization, avg)


def average_value_replicas(
    current: int, pods: list[PodSample], target_milli: int, tolerance: float = TOLERANCE
) -> Recommendation:
    """Desired replicas for a per-pod AverageValue target (GetRawResourceReplicas / calcPlainMetricReplicas):
    no requests needed; a pod without metrics counts as exactly the target on a scale-down."""
    if target_milli <= 0:
        raise MetricsError("the averageValue target must be positive")
    ready, unready, missing = _group(pods)
    ratio, avg = _average_ratio(ready, target_milli)
    fallback = {p.name: float(target_milli) for p in missing}
    replicas = _settle(
        current,
        ratio,
        ready,
        unready,
        missing,
        fallback,
        lambda u: _average_ratio(u, target_milli)[0],
        tolerance,
    )
    return Recommendation(replicas, None, avg)


@dataclass
class History:
    """What one HPA's normalisation remembers: recommendations and scale events, with their times."""

    recommendations: list[tuple[float, int]] = field(default_factory=list)
    scale_ups: list[tuple[float, int]] = field(default_factory=list)  # (when, replicas added)
    scale_downs: list[tuple[float, int]] = field(default_factory=list)  # (when, replicas removed)


def stabilize(history: History, now: float, current: int, recommended: int, behavior: dict | None) -> int:
    """The recommendation after the stabilisation windows; records `recommended` in `history`."""
    history.recommendations.append((now, recommended))
    if behavior is None:
        window_up, window_down = 0.0, DEFAULT_DOWNSCALE_WINDOW
    else:
        window_up = float((behavior.get("scaleUp") or {}).get("stabilizationWindowSeconds") or 0)
        window_down = float((behavior.get("scaleDown") or {}).get("stabilizationWindowSeconds") or 0)
    keep = max(window_up, window_down)
    history.recommendations[:] = [(t, r) for t, r in history.recommendations if now - t <= keep]
    up = min([r for t, r in history.recommendations if now - t <= window_up] or [recommended])
    down = max([r for t, r in history.recommendations if now - t <= window_down] or [recommended])
    if up > current:
        return up
    if down < current:
        return down
    return current


def _changed_in(events: list[tuple[float, int]], now: float, period: float) -> int:
    return sum(n for t, n in events if now - t <= period)


def _policy_limit(
    rules: dict, current: int, events: list[tuple[float, int]], now: float, up: bool
) -> int | None:
    """The furthest the policies let replicas move this period; None: scaling this way is disabled."""
    select = rules.get("selectPolicy") or "Max"
    if select == "Disabled":
        return None
    limits = []
    for p in rules.get("policies") or []:
        start = (
            current - _changed_in(events, now, float(p["periodSeconds"]))
            if up
            else current + _changed_in(events, now, float(p["periodSeconds"]))
        )
        if p["type"] == "Pods":
            limits.append(start + p["value"] if up else start - p["value"])
        elif up:
            limits.append(math.ceil(start * (1 + p["value"] / 100)))
        else:
            limits.append(int(start * (1 - p["value"] / 100)))  # Go's int32() truncates
    if not limits:
        return None
    most = max(limits) if up else min(limits)
    least = min(limits) if up else max(limits)
    return most if select == "Max" else least


def limit(
    current: int, desired: int, low: int, high: int, behavior: dict | None, history: History, now: float
) -> tuple[int, str, str]:
    """(replicas, ScalingLimited reason, message) within min/max and the rate limits."""
    if behavior is None:
        up_limit = max(2 * current, 4)
        if desired > up_limit and up_limit < high:
            return (
                up_limit,
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            )
    elif desired > current:
        cap = _policy_limit(behavior.get("scaleUp") or {}, current, history.scale_ups, now, up=True)
        cap = current if cap is None else cap
        if desired > cap and cap < high:
            return (
                max(cap, current),
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            )
    elif desired < current:
        floor = _policy_limit(behavior.get("scaleDown") or {}, current, history.scale_downs, now, up=False)
        floor = current if floor is None else floor
        if desired < floor and floor > low:
            return (
                min(floor, current),
                "ScaleDownLimit",
                "the desired replica count is decreasing faster than the maximum scale rate",
            )
    if desired > high:
        return high, "TooManyReplicas", "the desired replica count is more than the maximum replica count"
    if desired < low:
        return low, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


def record_scale(history: History, now: float, old: int, new: int) -> None:
    if new > old:
        history.scale_ups.append((now, new - old))
    elif new < old:
        history.scale_downs.append((now, old - new))
    horizon = 1800.0  # the longest policy period kube allows
    history.scale_ups[:] = [(t, n) for t, n in history.scale_ups if now - t <= horizon]
    history.scale_downs[:] = [(t, n) for t, n in history.scale_downs if now - t <= horizon]

"""`kubectl describe hpa`: kubectl's HorizontalPodAutoscaler (v2) describer, line for line.

Reference, each metric as `( current / target )` (`resource cpu on pods  (as a percentage of
request):  42% (42m) / 50%`), min and max replicas, the behavior when one is set, the target's pods
(`Deployment pods:  2 current / 4 desired`), the conditions table and the events.
"""

from __future__ import annotations

from typing import Any

from kubectl.describe_writer import (
    Out,
    events_block,
    fetch_events,
    heading,
    meta,
    rfc1123z,
)
from kubectl.env import Env

Obj = dict[str, Any]


def _resource_metric(out: Out, metric: Obj, current: Obj | None) -> None:
    src = metric.get("resource") or {}
    target = src.get("target") or {}
    name = src.get("name", "")
    now = ((current or {}).get("resource") or {}).get("current") or {}
    if target.get("averageValue") is not None:
        shown = str(now["averageValue"]) if now.get("averageValue") is not None else "<unknown>"
        out.w(f"  resource {name} on pods:\t{shown} / {target['averageValue']}")
        return
    shown = "<unknown>"
    if now.get("averageUtilization") is not None:
        shown = f"{now['averageUtilization']}% ({now.get('averageValue', '0')})"
    wanted = f"{target['averageUtilization']}%" if target.get("averageUtilization") is not None else "<auto>"
    out.w(f"  resource {name} on pods  (as a percentage of request):\t{shown} / {wanted}")


def _direction(out: Out, title: str, rules: Obj | None) -> None:
    if rules is None:
        return
    out.w(f"  {title}:")
    if rules.get("stabilizationWindowSeconds") is not None:
        out.w(f"    Stabilization Window: {rules['stabilizationWindowSeconds']} seconds")
    policies = rules.get("policies") or []
    if policies:
        out.w(f"    Select Policy: {rules.get('selectPolicy') or 'Max'}")
        out.w("    Policies:")
        for p in policies:
            out.w(
                f"      - Type: {p.get('type')}\tValue: {p.get('value')}\tPeriod: {p.get('periodSeconds')} seconds"
            )


def describe_hpa(env: Env, hpa: Obj) -> str:
    out, m = Out(), meta(hpa)
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    heading(out, hpa)
    out.w(f"CreationTimestamp:\t{rfc1123z(m.get('creationTimestamp'))}")
    out.w(f"Reference:\t{ref.get('kind')}/{ref.get('name')}")
    out.w("Metrics:\t( current / target )")
    current = status.get("currentMetrics") or []
    for i, metric in enumerate(spec.get("metrics") or []):
        if metric.get("type") == "Resource":
            _resource_metric(out, metric, current[i] if i < len(current) else None)
        else:
            out.w(f"  {metric.get('type')} metric:\t<unknown> / <unknown>")
    low = spec.get("minReplicas")
    out.w(f"Min replicas:\t{'<unset>' if low is None else low}")
    out.w(f"Max replicas:\t{spec.get('maxReplicas', 0)}")
    behavior = spec.get("behavior")
    if behavior is not None:
        out.w("Behavior:")
        _direction(out, "Scale Up", behavior.get("scaleUp"))
        _direction(out, "Scale Down", behavior.get("scaleDown"))
    out.w(
        f"{ref.get('kind')} pods:\t{status.get('currentReplicas', 0)} current / "
        f"{status.get('desiredReplicas', 0)} desired"
    )
    conditions = status.get("conditions") or []
    if conditions:
        out.w("Conditions:")
        out.w("  Type\tStatus\tReason\tMessage")
        out.w("  ----\t------\t------\t-------")
        for c in conditions:
            out.w(f"  {c.get('type')}\t{c.get('status')}\t{c.get('reason', '')}\t{c.get('message', '')}")
    events_block(out, fetch_events(env, hpa))
    return out.text()

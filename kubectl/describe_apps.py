"""`kubectl describe` for Deployments and ReplicaSets.

Same writer and layout rules as `kubectl.describe` (kubectl's DeploymentDescriber and
ReplicaSetDescriber): a Deployment shows its replica counts, strategy, template, conditions,
the old ReplicaSets and the new one; a ReplicaSet its pods by phase and
the Deployment that controls it.
"""

from __future__ import annotations

from api.errors import ApiError
from kubectl.describe_template import format_selector, pod_template_block, pods_status_line, selector_query
from kubectl.describe_writer import (
    L1,
    Obj,
    Out,
    controlled_by_line,
    events_block,
    fetch_events,
    heading,
    meta,
    rfc1123z,
)
from kubectl.env import Env


def _conditions(out: Out, status: Obj) -> None:
    conds = status.get("conditions") or []
    if conds:
        out.w("Conditions:\n  Type\tStatus\tReason")
        out.w(f"{L1}----\t------\t------")
        for c in conds:
            out.w(f"{L1}{c.get('type')} \t{c.get('status')}\t{c.get('reason', '')}")


def _replicas(o: Obj) -> int:
    v = (o.get("spec") or {}).get("replicas")
    return 1 if v is None else int(v)


def _rs_list(rss: list[Obj]) -> str:
    return (
        ", ".join(
            f"{meta(r).get('name')} ({int((r.get('status') or {}).get('replicas') or 0)}/{_replicas(r)} "
            "replicas created)"
            for r in rss
        )
        or "<none>"
    )


def _owned_rss(env: Env, d: Obj) -> tuple[list[Obj], Obj | None]:
    """(all old ReplicaSets, the new one), as kubectl 1.33's describe lists them (scaled-down ones too)."""
    m = meta(d)
    try:
        items = env.client.list("replicasets", m.get("namespace")).get("items") or []
    except ApiError:
        return [], None
    owned = [
        r
        for r in items
        if any(
            o.get("controller") and o.get("uid") == m.get("uid") for o in meta(r).get("ownerReferences") or []
        )
    ]
    owned.sort(key=lambda r: (meta(r).get("creationTimestamp") or "", meta(r).get("name") or ""))
    from controller.deployment_util import equal_ignore_hash

    want = (d.get("spec") or {}).get("template") or {}
    new = next(
        (r for r in owned if equal_ignore_hash((r.get("spec") or {}).get("template") or {}, want)), None
    )
    return [r for r in owned if r is not new], new


def describe_deployment(env: Env, d: Obj) -> str:
    out, m = Out(), meta(d)
    spec, status = d.get("spec") or {}, d.get("status") or {}
    heading(out, d, ("CreationTimestamp", rfc1123z(m.get("creationTimestamp"))))
    out.w(f"Selector:\t{format_selector(spec.get('selector'))}")
    n = {
        k: int(status.get(k) or 0)
        for k in ("updatedReplicas", "replicas", "availableReplicas", "unavailableReplicas")
    }
    out.w(
        f"Replicas:\t{_replicas(d)} desired | {n['updatedReplicas']} updated | {n['replicas']} total | "
        f"{n['availableReplicas']} available | {n['unavailableReplicas']} unavailable"
    )
    strategy = spec.get("strategy") or {}
    out.w(f"StrategyType:\t{strategy.get('type', '')}")
    out.w(f"MinReadySeconds:\t{int(spec.get('minReadySeconds') or 0)}")
    ru = strategy.get("rollingUpdate")
    if ru is not None:
        out.w(
            f"RollingUpdateStrategy:\t{ru.get('maxUnavailable', '')} max unavailable, "
            f"{ru.get('maxSurge', '')} max surge"
        )
    pod_template_block(out, spec.get("template") or {})
    _conditions(out, status)
    olds, new = _owned_rss(env, d)
    if olds or new is not None:
        out.w(f"OldReplicaSets:\t{_rs_list(olds)}")
        out.w(f"NewReplicaSet:\t{_rs_list([new] if new else [])}")
    events_block(out, fetch_events(env, d))
    return out.text()


def describe_replicaset(env: Env, rs: Obj) -> str:
    out = Out()
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    heading(out, rs, ("Selector", format_selector(spec.get("selector"))))
    controlled_by_line(out, rs)
    out.w(f"Replicas:\t{int(status.get('replicas') or 0)} current / {_replicas(rs)} desired")
    out.w(pods_status_line(env, rs, selector_query(spec.get("selector"))))
    pod_template_block(out, spec.get("template") or {})
    _conditions(out, status)
    events_block(out, fetch_events(env, rs))
    return out.text()

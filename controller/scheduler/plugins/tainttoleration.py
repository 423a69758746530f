"""Taints with effect NoSchedule or NoExecute repel pods that do not tolerate them.

PreferNoSchedule only lowers preference in Kubernetes; it is not a filter and is ignored here.
"""

from __future__ import annotations

from typing import Any

from controller.scheduler.nodeinfo import NodeInfo, PodInfo

unresolvable = True  # no pod removed changes a node's taints


def toleration_matches(t: dict[str, Any], taint: dict[str, Any]) -> bool:
    if t.get("effect") and t.get("effect") != taint.get("effect"):
        return False
    op = t.get("operator") or "Equal"
    if not t.get("key"):
        return op == "Exists"  # an empty key with Exists tolerates everything
    if t.get("key") != taint.get("key"):
        return False
    return op == "Exists" or (t.get("value") or "") == (taint.get("value") or "")


def tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    return any(toleration_matches(t, taint) for t in tolerations)


def filter(pod: PodInfo, node: NodeInfo) -> tuple[str, ...]:
    for taint in node.taints:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(pod.tolerations, taint):
            return (f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value') or ''}}}",)
    return ()

"""`spec.nodeSelector` and required node affinity: the node must satisfy both; preferred node
affinity terms score the nodes they match by their weights.

Required affinity is `affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
.nodeSelectorTerms`: the terms are ORed, each term's `matchExpressions` (over node labels:
In, NotIn, Exists, DoesNotExist, Gt, Lt) and `matchFields` (over `metadata.name`: In, NotIn)
are ANDed, and a term with neither matches nothing. The DaemonSet controller pins each of its
pods to one node with a `matchFields metadata.name In [<node>]` term, as Kubernetes does since
1.12, and uses `node_matches` for its own "should this node run a pod" check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from controller.scheduler.nodeinfo import NodeInfo, PodInfo

REASON = "node(s) didn't match Pod's node affinity/selector"


def _requirement(req: Mapping[str, Any], value: str | None) -> bool:
    op, values = req.get("operator"), [str(v) for v in req.get("values") or []]
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt"):
        try:
            have, bound = int(value or ""), int(values[0])
        except (ValueError, IndexError):
            return False
        return have > bound if op == "Gt" else have < bound
    return False


def term_matches(term: Mapping[str, Any], node_name: str, labels: Mapping[str, str]) -> bool:
    exprs, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not fields:
        return False
    if not all(_requirement(e, labels.get(e.get("key", ""))) for e in exprs):
        return False
    return all(_requirement(f, node_name if f.get("key") == "metadata.name" else None) for f in fields)


def required_terms(spec: Mapping[str, Any]) -> list[Any] | None:
    """The required nodeSelectorTerms, or None when the pod has no required node affinity."""
    na = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    req = na.get("requiredDuringSchedulingIgnoredDuringExecution")
    if req is None:
        return None
    return list(req.get("nodeSelectorTerms") or [])


def node_matches(spec: Mapping[str, Any], node_name: str, labels: Mapping[str, str]) -> bool:
    """Does a node with this name and these labels satisfy the pod spec's selector and affinity?"""
    for k, v in (spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    terms = required_terms(spec)
    return terms is None or any(term_matches(t, node_name, labels) for t in terms)


def skip(pod: PodInfo) -> bool:
    """PreFilter's Skip: no nodeSelector and no required node affinity."""
    return not pod.node_selector and required_terms(pod.pod.get("spec") or {}) is None


def filter(pod: PodInfo, node: NodeInfo) -> tuple[str, ...]:
    labels = node.labels
    for k, v in pod.node_selector.items():
        if labels.get(k) != v:
            return (REASON,)
    terms = required_terms(pod.pod.get("spec") or {})
    if terms is not None and not any(term_matches(t, node.name, labels) for t in terms):
        return (REASON,)
    return ()


def preferred_terms(spec: Mapping[str, Any]) -> list[Any]:
    na = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    return [t for t in na.get("preferredDuringSchedulingIgnoredDuringExecution") or [] if isinstance(t, dict)]


def score_skip(pod: PodInfo) -> bool:
    """No preferred node affinity: every node scores the same."""
    return not preferred_terms(pod.pod.get("spec") or {})


def scores(pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[float]:
    """The weights of the preferred terms each node matches (kube's NodeAffinity Score)."""
    terms = preferred_terms(pod.pod.get("spec") or {})
    return [
        float(
            sum(
                int(t.get("weight") or 0)
                for t in terms
                if term_matches(t.get("preference") or {}, n.name, n.labels)
            )
        )
        for n in nodes
    ]


def normalize(scores: Sequence[float]) -> list[float]:
    top = max(scores, default=0.0)
    return [100.0 * s / top if top > 0 else 0.0 for s in scores]

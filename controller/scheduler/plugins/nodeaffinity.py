"""`spec.nodeSelector` and required node affinity: the node must satisfy both; preferred node
affinity terms score the nodes they match by their weights.

The terms are parsed once, when the pod enters the scheduler's cache (`PodInfo.node_affinity`,
see affinityterms.py for their semantics), so the per-node filter and score only evaluate them.
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.scheduler.nodeinfo import NodeInfo, PodInfo

REASON = "node(s) didn't match Pod's node affinity/selector"
unresolvable = True  # no pod removed changes a node's labels


def skip(pod: PodInfo) -> bool:
    """PreFilter's Skip: no nodeSelector and no required node affinity."""
    return not pod.node_affinity.restricts


def filter(pod: PodInfo, node: NodeInfo) -> tuple[str, ...]:
    return () if pod.node_affinity.admits(node.name, node.labels) else (REASON,)


def score_skip(pod: PodInfo) -> bool:
    """No preferred node affinity: every node scores the same."""
    return not pod.node_affinity.preferred


def scores(pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[float]:
    """The weights of the preferred terms each node matches (kube's NodeAffinity Score)."""
    preference = pod.node_affinity.preference
    return [float(preference(n.name, n.labels)) for n in nodes]


def normalize(scores: Sequence[float]) -> list[float]:
    top = max(scores, default=0.0)
    return [100.0 * s / top if top > 0 else 0.0 for s in scores]

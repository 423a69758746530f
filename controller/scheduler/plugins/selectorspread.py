"""Spread pods of one replication controller, and of one service, across nodes.

The raw score is how many such pods a node already runs; `normalize` turns it into
100 for the emptiest node down to 0 for the fullest.
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.scheduler.nodeinfo import NodeInfo, PodInfo


def score(pod: PodInfo, node: NodeInfo) -> float:
    n = node.owner_counts.get(pod.owner_uid, 0) if pod.owner_uid else 0
    for sel in pod.service_selectors:
        n += sum(1 for p in node.pods.values() if p.owner_uid != pod.owner_uid and sel.matches(p.labels))
    return float(n)


def normalize(scores: Sequence[float]) -> list[float]:
    top = max(scores, default=0.0)
    if top <= 0:
        return [100.0] * len(scores)
    return [100.0 * (top - s) / top for s in scores]

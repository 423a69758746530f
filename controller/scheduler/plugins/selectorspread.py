"""Spread pods of one replication controller, and of one service, across nodes.

The raw score is how many such pods a node already runs; `normalize` turns it into
100 for the emptiest node down to 0 for the fullest.
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.scheduler.nodeinfo import NodeInfo, PodInfo


def scores(pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[float]:
    owner = pod.owner_uid
    out = [float(node.owner_counts.get(owner, 0)) for node in nodes] if owner else [0.0] * len(nodes)
    for sel in pod.service_selectors:  # the pods of the pod's services, beyond its owner's
        for i, node in enumerate(nodes):
            out[i] += sum(1 for p in node.pods.values() if p.owner_uid != owner and sel.matches(p.labels))
    return out


def normalize(scores: Sequence[float]) -> list[float]:
    top = max(scores, default=0.0)
    if top <= 0:
        return [100.0] * len(scores)
    return [100.0 * (top - s) / top for s in scores]

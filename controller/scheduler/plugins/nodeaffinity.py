"""`spec.nodeSelector`: every key=value must be among the node's labels."""

from __future__ import annotations

from controller.scheduler.nodeinfo import NodeInfo, PodInfo

REASON = "node(s) didn't match Pod's node affinity/selector"


def filter(pod: PodInfo, node: NodeInfo) -> tuple[str, ...]:
    labels = node.labels
    for k, v in pod.node_selector.items():
        if labels.get(k) != v:
            return (REASON,)
    return ()

"""A pod naming a node (`spec.nodeName` set before scheduling) fits only that node."""

from __future__ import annotations

from controller.scheduler.nodeinfo import NodeInfo, PodInfo

REASON = "node(s) didn't match the requested node name"
unresolvable = True  # no pod removed changes a node's name


def skip(pod: PodInfo) -> bool:
    """PreFilter's Skip: a pod that names no node passes everywhere."""
    return not pod.node_name


def filter(pod: PodInfo, node: NodeInfo) -> tuple[str, ...]:
    return (REASON,) if pod.node_name and pod.node_name != node.name else ()

"""Requests vs allocatable: cpu, memory and the pod count, counting bound and assumed pods.

A node that does not report an allocatable resource is not limited on it.
"""

from __future__ import annotations

from controller.scheduler.nodeinfo import NodeInfo, PodInfo


def filter(pod: PodInfo, node: NodeInfo) -> tuple[str, ...]:
    reasons: list[str] = []
    if node.alloc_pods is not None and len(node.pods) + 1 > node.alloc_pods:
        reasons.append("Too many pods")
    if pod.milli_cpu and node.alloc_cpu is not None and node.req_cpu + pod.milli_cpu > node.alloc_cpu:
        reasons.append("Insufficient cpu")
    if pod.memory and node.alloc_memory is not None and node.req_memory + pod.memory > node.alloc_memory:
        reasons.append("Insufficient memory")
    return tuple(reasons)

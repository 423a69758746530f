"""Prefer the node with the most free cpu and memory after placing the pod (0..100).

Uses the non-zero requests (100m, 200Mi for pods that declare none), as Kubernetes does, so
request-less pods still spread by count.
"""

from __future__ import annotations

from controller.scheduler.nodeinfo import NodeInfo, PodInfo


def _free(requested: int, allocatable: int | None) -> float:
    if not allocatable:
        return 1.0
    return max(0.0, (allocatable - requested) / allocatable)


def score(pod: PodInfo, node: NodeInfo) -> float:
    cpu = _free(node.nonzero_cpu + pod.nonzero_cpu, node.alloc_cpu)
    mem = _free(node.nonzero_memory + pod.nonzero_memory, node.alloc_memory)
    return 50.0 * (cpu + mem)

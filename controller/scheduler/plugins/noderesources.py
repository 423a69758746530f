"""Requests vs allocatable: cpu, memory, the pod count and every other resource a pod requests
(ephemeral-storage, hugepages, extended resources such as nvidia.com/gpu), counting bound and
assumed pods.

A node that does not report cpu, memory, pods or ephemeral-storage is not limited on it; a
node that does not report a hugepages or extended resource has none of it (kube's "Insufficient
nvidia.com/gpu").
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.scheduler.nodeinfo import NodeInfo, PodInfo


def filter(pod: PodInfo, node: NodeInfo) -> tuple[str, ...]:
    reasons: list[str] = []
    if node.alloc_pods is not None and len(node.pods) + 1 > node.alloc_pods:
        reasons.append("Too many pods")
    if pod.milli_cpu and node.alloc_cpu is not None and node.req_cpu + pod.milli_cpu > node.alloc_cpu:
        reasons.append("Insufficient cpu")
    if pod.memory and node.alloc_memory is not None and node.req_memory + pod.memory > node.alloc_memory:
        reasons.append("Insufficient memory")
    if pod.scalar:  # most pods request only cpu and memory: no loop per node for them
        for name, amount in pod.scalar.items():
            have = node.alloc_scalar.get(name)
            if have is None and name == "ephemeral-storage":
                continue
            if amount and node.req_scalar.get(name, 0) + amount > (have or 0):
                reasons.append(f"Insufficient {name}")
    return tuple(reasons)


def unresolvable(pod: PodInfo, node: NodeInfo, reasons: Sequence[str]) -> bool:
    """Whether the pod asks for more of a resource than the node has at all, so that no pod
    removed could make room (kube's InsufficientResource.Unresolvable); too many pods, or too
    little left of what the node has, preemption may help with."""
    if pod.milli_cpu and node.alloc_cpu is not None and pod.milli_cpu > node.alloc_cpu:
        return True
    if pod.memory and node.alloc_memory is not None and pod.memory > node.alloc_memory:
        return True
    for name, amount in pod.scalar.items():
        have = node.alloc_scalar.get(name)
        if have is None and name == "ephemeral-storage":
            continue
        if amount > (have or 0):
            return True
    return False

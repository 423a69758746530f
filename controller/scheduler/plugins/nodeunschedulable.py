"""A node that is not Ready or is cordoned (`spec.unschedulable`) takes no new pods.

Pods tolerating `node.kubernetes.io/unschedulable:NoSchedule` may still go to a cordoned node.
"""

from __future__ import annotations

from controller.scheduler.nodeinfo import NodeInfo, PodInfo
from controller.scheduler.plugins.tainttoleration import tolerates

NOT_READY = "node(s) were not ready"
UNSCHEDULABLE = "node(s) were unschedulable"
_CORDON = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
# removing pods neither makes a node Ready nor uncordons it: preemption skips such nodes
# (kube's UnschedulableAndUnresolvable)
unresolvable = True


def filter(pod: PodInfo, node: NodeInfo) -> tuple[str, ...]:
    if not node.ready:
        return (NOT_READY,)
    if node.unschedulable and not tolerates(pod.tolerations, _CORDON):
        return (UNSCHEDULABLE,)
    return ()

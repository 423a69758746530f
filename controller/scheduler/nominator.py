"""The pods nominated to nodes: pending pods that preemption is making room for (kube's
nominator, in its scheduling queue).

A pod is nominated when preemption picks a node for it. The scheduler records that here at once,
before its write of `status.nominatedNodeName` comes back, so that the very next decision already
counts the pod on that node against every pod of lower priority (framework.feasible_nodes).
Nominations made elsewhere (another scheduler, or a restart of this one) are learnt from the
pods' status as the pending pods' informer delivers them.

A nomination ends when the pod is assumed or bound, when it is deleted, and when its status says
otherwise; an update whose old and new status both name no node keeps the one made here, as
kube's UpdateNominatedPod does (the status write may not have arrived yet).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from controller.scheduler.nodeinfo import PodInfo

Obj = dict[str, Any]


def nominated_node_name(pod: Obj | None) -> str:
    return str(((pod or {}).get("status") or {}).get("nominatedNodeName") or "")


class Nominator:
    def __init__(self) -> None:
        self.by_node: dict[str, dict[str, PodInfo]] = {}  # node -> pod key -> the pod
        self.node_of: dict[str, str] = {}  # pod key -> node

    def nominate(self, info: PodInfo, node: str) -> None:
        self.forget(info.key)
        self.node_of[info.key] = node
        self.by_node.setdefault(node, {})[info.key] = info

    def forget(self, key: str) -> None:
        node = self.node_of.pop(key, None)
        if node is None:
            return
        pods = self.by_node.get(node)
        if pods is not None:
            pods.pop(key, None)
            if not pods:
                del self.by_node[node]

    def observe(self, key: str, old: Obj | None, new: Obj, info: Callable[[], PodInfo]) -> None:
        """A pending pod added (`old` None) or updated; `info` makes its PodInfo when one is needed."""
        if ((new.get("spec") or {}).get("nodeName")) or (new.get("metadata") or {}).get("deletionTimestamp"):
            self.forget(key)
            return
        node = nominated_node_name(new)
        if not node and old is not None and not nominated_node_name(old):
            node = self.node_of.get(key, "")  # kept: the scheduler's own write may be on its way
        if node:
            self.nominate(info(), node)
        else:
            self.forget(key)

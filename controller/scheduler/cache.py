"""The scheduler's picture of the nodes: each node's NodeInfo with the pods bound to it or
assumed there, kept by the node and assigned-pod informers' handlers (kube's scheduler cache).

A pod is *assumed* onto its node the moment it is decided, before its binding is sent, and
forgotten again if the binding fails; the assigned pods' informer then confirms it. A kubelet's
status write, the bulk of a busy cluster's pod updates, changes nothing the cache counts and
only refreshes the object kept (preemption reads a victim's start time, deletion and
conditions from it). `on_room` is called whenever room may have appeared (a node added or
changed, a pod deleted or finished): the scheduler then retries the pods that fit nowhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.informer import DeletedFinalStateUnknown, key_of
from controller.base import Obj, meta, unwrap
from controller.scheduler.nodeinfo import NodeInfo, PodInfo, pod_info


def _node_view(node: Obj) -> tuple[Any, ...]:
    """What of a node can change a decision (heartbeat timestamps excluded)."""
    st = node.get("status") or {}
    ready = [(c.get("type"), c.get("status")) for c in st.get("conditions") or []]
    return (node.get("spec"), meta(node).get("labels"), st.get("allocatable"), st.get("capacity"), ready)


def _ended(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


class NodeCache:
    def __init__(self, on_room: Callable[[], None], on_assigned: Callable[[str], None]) -> None:
        """`on_assigned(key)`: a pod was bound (the scheduler's nominations forget it)."""
        self.on_room, self.on_assigned = on_room, on_assigned
        self.node_infos: dict[str, NodeInfo] = {}
        self._live: list[NodeInfo] | None = None
        self.pod_node: dict[str, str] = {}  # pod key -> node, bound or assumed
        self.affinity_nodes: dict[str, NodeInfo] = {}  # nodes running pods with inter-pod terms
        self.assumed: set[str] = set()

    def live_nodes(self) -> list[NodeInfo]:
        if self._live is None:
            self._live = [n for n in self.node_infos.values() if n.node]
        return self._live

    def assume(self, key: str, node: NodeInfo, info: PodInfo) -> None:
        self.pod_node[key] = node.name
        self.assumed.add(key)
        self._place(node, info)

    def forget(self, key: str) -> None:
        node = self.pod_node.pop(key, None)
        self.assumed.discard(key)
        if node is not None and node in self.node_infos:
            self.node_infos[node].remove_pod(key)
            if not self.node_infos[node].placed_terms:
                self.affinity_nodes.pop(node, None)

    def _node_for(self, name: str) -> NodeInfo:
        n = self.node_infos.get(name)
        if n is None:
            n = self.node_infos[name] = NodeInfo(name, {})
            n.ready = False
        return n

    def _place(self, node: NodeInfo, info: PodInfo) -> None:
        node.add_pod(info)
        if node.placed_terms:  # the nodes a decision checks for placed pods' terms
            self.affinity_nodes[node.name] = node

    # the assigned pods' informer
    def assigned_updated(self, old: Obj, new: Obj) -> None:
        key = key_of(new)
        node = self.pod_node.get(key)
        if (
            key not in self.assumed
            and node == (new.get("spec") or {}).get("nodeName")
            and not _ended(new)
            and old.get("spec") == new.get("spec")
            and meta(old).get("labels") == meta(new).get("labels")
        ):
            info = self.node_infos[node].pods.get(key) if node in self.node_infos else None
            if info is not None:
                info.pod = new
            return
        self.assigned_changed(new)

    def assigned_changed(self, pod: Obj) -> None:
        key = key_of(pod)
        node = (pod.get("spec") or {}).get("nodeName") or ""
        self.assumed.discard(key)
        self.on_assigned(key)
        if _ended(pod):
            self.forget(key)
            self.on_room()
            return
        old = self.pod_node.get(key)
        if old and old != node:
            self.forget(key)
        self.pod_node[key] = node
        self._place(self._node_for(node), pod_info(key, pod))

    def assigned_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self.forget(key_of(unwrap(obj)))
        self.on_room()

    # the nodes' informer
    def node_changed(self, node: Obj) -> None:
        self._node_for(meta(node)["name"]).set_node(node)
        self._live = None
        self.on_room()

    def node_updated(self, old: Obj, new: Obj) -> None:
        if _node_view(old) != _node_view(new):
            self.node_changed(new)

    def node_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        name = meta(unwrap(obj)).get("name", "")
        self.node_infos.pop(name, None)
        self.affinity_nodes.pop(name, None)  # its pods' terms go with it
        self._live = None

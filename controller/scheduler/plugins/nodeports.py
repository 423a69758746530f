"""Host ports: two pods on one node cannot bind the same protocol/port on overlapping IPs."""

from __future__ import annotations

from controller.scheduler.nodeinfo import NodeInfo, PodInfo

REASON = "node(s) didn't have free ports for the requested pod ports"
_ANY = "0.0.0.0"


def skip(pod: PodInfo) -> bool:
    """PreFilter's Skip: a pod without host ports conflicts with none."""
    return not pod.host_ports


def filter(pod: PodInfo, node: NodeInfo) -> tuple[str, ...]:
    if not pod.host_ports or not node.used_ports:
        return ()
    used = node.used_ports
    for proto, ip, port in pod.host_ports:
        if (proto, ip, port) in used or (proto, _ANY, port) in used:
            return (REASON,)
        if ip == _ANY and any(p == proto and n == port for p, _, n in used):
            return (REASON,)
    return ()

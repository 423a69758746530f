"""Pod-to-pod traffic across nodes: a route to every other node's podCIDR via its InternalIP.

Each node's pods live on its own bridge with a /24 from the cluster CIDR; a packet for
another node's pod must go to that node, which bridges it to the pod. The desired routes are
a pure function of the Node objects (`desired_routes`); the loop (enqueue-only handlers, one
reconcile over the informer's cache) adds what is missing and removes what is stale.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from api.informer import InformerFactory

log = logging.getLogger(__name__)


class RouteTable(Protocol):
    def add_route(self, cidr: str, via: str) -> None: ...

    def remove_route(self, cidr: str) -> None: ...


def internal_ip(node: dict[str, Any]) -> str:
    for a in (node.get("status") or {}).get("addresses") or []:
        if a.get("type") == "InternalIP":
            return str(a.get("address", ""))
    return ""


def desired_routes(nodes: list[dict[str, Any]], self_name: str) -> dict[str, str]:
    """podCIDR -> next hop for every other node that has both."""
    out = {}
    for n in nodes:
        cidr = (n.get("spec") or {}).get("podCIDR")
        ip = internal_ip(n)
        if n["metadata"]["name"] != self_name and cidr and ip:
            out[cidr] = ip
    return out


class RouteManager:
    def __init__(self, informers: InformerFactory, table: RouteTable, node_name: str) -> None:
        self.nodes = informers.informer("nodes")
        self.table = table
        self.node_name = node_name
        self.installed: dict[str, str] = {}
        self._dirty = asyncio.Event()
        self.nodes.add_handlers(self._mark, lambda old, new: self._mark(), self._mark)

    def _mark(self, _obj: Any = None) -> None:
        self._dirty.set()

    def reconcile(self) -> None:
        want = desired_routes(self.nodes.list(), self.node_name)
        for cidr in [c for c in self.installed if c not in want or want[c] != self.installed[c]]:
            self.table.remove_route(cidr)
            del self.installed[cidr]
        for cidr, via in want.items():
            if cidr not in self.installed:
                self.table.add_route(cidr, via)
                self.installed[cidr] = via

    async def run(self) -> None:
        await self.nodes.synced.wait()
        self._dirty.set()
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await asyncio.to_thread(self.reconcile)
            except Exception:
                log.exception("route reconcile failed; retrying")
                await asyncio.sleep(1)
                self._dirty.set()

    def remove_all(self) -> None:
        for cidr in list(self.installed):
            self.table.remove_route(cidr)
        self.installed.clear()

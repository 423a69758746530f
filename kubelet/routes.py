"""Pod-to-pod traffic across nodes: a route to every other node's podCIDR via its InternalIP.

Each node's pods live on its own bridge with a /24 from the cluster CIDR; a packet for
another node's pod must go to that node, which bridges it to the pod. The desired routes are
a pure function of the Node objects (`desired_routes`); the loop (enqueue-only handlers, one
reconcile over the informer's cache) adds what is missing and removes what is stale.

The kernel drops a route by itself when the link it goes through goes down: after a link flap
the node's routes to the other nodes are gone although no Node object changed, and its pods (and
its ingress nginx, which proxies to pod IPs) get ENETUNREACH for every pod of the other nodes.
So every `resync` seconds each wanted route is written again (a netlink replace: no change when
it is there), as flannel's host-gw backend checks its routes every 10 s.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from api.informer import InformerFactory
from runtime.network.interface import NetworkError

log = logging.getLogger(__name__)
RESYNC_PERIOD = 10.0  # seconds between re-writes of every wanted route (flannel's routeCheck period)


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
    def __init__(
        self,
        informers: InformerFactory,
        table: RouteTable,
        node_name: str,
        resync: float = RESYNC_PERIOD,
    ) -> None:
        self.nodes = informers.informer("nodes")
        self.table = table
        self.node_name = node_name
        self.resync = resync
        self.installed: dict[str, str] = {}
        self.resyncs = 0
        self._dirty = asyncio.Event()
        self._rewrite = False  # the next reconcile writes every wanted route, not only new ones
        self.nodes.add_handlers(self._mark, lambda old, new: self._mark(), self._mark)

    def _mark(self, _obj: Any = None) -> None:
        self._dirty.set()

    def reconcile(self, rewrite: bool = False) -> None:
        """Routes as the Nodes want them; `rewrite`: also those written before (the kernel may
        have dropped them with their link)."""
        want = desired_routes(self.nodes.list(), self.node_name)
        for cidr in [c for c in self.installed if c not in want or want[c] != self.installed[c]]:
            self.table.remove_route(cidr)
            del self.installed[cidr]
        for cidr, via in want.items():
            if rewrite or cidr not in self.installed:
                self.table.add_route(cidr, via)
                self.installed[cidr] = via

    async def run(self) -> None:
        await self.nodes.synced.wait()
        self._dirty.set()
        ticker = asyncio.create_task(self._tick(), name="routes-resync")
        try:
            while True:
                await self._dirty.wait()
                self._dirty.clear()
                rewrite, self._rewrite = self._rewrite, False
                try:
                    await asyncio.to_thread(self.reconcile, rewrite)
                    self.resyncs += rewrite
                except Exception as e:
                    if isinstance(e, NetworkError):  # e.g. the link is down: no route through it yet
                        log.warning("route reconcile failed: %s; retrying", e)
                    else:
                        log.exception("route reconcile failed; retrying")
                    self._rewrite = self._rewrite or rewrite
                    await asyncio.sleep(1)
                    self._dirty.set()
        finally:
            ticker.cancel()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.resync)
            self._rewrite = True
            self._dirty.set()

    def remove_all(self) -> None:
        for cidr in list(self.installed):
            self.table.remove_route(cidr)
        self.installed.clear()

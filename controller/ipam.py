"""Node IPAM: give every node a /24 (node_cidr_mask) `spec.podCIDR` from the cluster CIDR.

The CIDRs in use are derived from the Node objects themselves (plus the allocations this
process has sent but not yet seen), so a restarted controller never hands one out twice.
One worker only: allocations are decided one at a time.
"""

from __future__ import annotations

import functools
import ipaddress
import logging

from api.errors import ApiError
from api.events import WARNING, EventRecorder
from api.informer import Informer
from controller.base import ApiClient, Obj, QueueController, meta

log = logging.getLogger(__name__)


def used_cidrs(nodes: list[Obj]) -> set[str]:
    out: set[str] = set()
    for n in nodes:
        spec = n.get("spec") or {}
        out.update(c for c in [spec.get("podCIDR"), *(spec.get("podCIDRs") or [])] if c)
    return out


def next_free(cluster_cidr: str, mask: int, used: set[str]) -> str | None:
    """The first subnet of size `mask` in `cluster_cidr` overlapping nothing in `used`.

    Each used CIDR blocks a run of the candidate subnets' indices; the answer is the first
    index no run covers. Sorting the runs costs n log n: testing every candidate against every
    used CIDR cost 250,000 overlap checks per node at 500 nodes, and stalled the server's loop."""
    net = ipaddress.ip_network(cluster_cidr, strict=False)
    next(net.subnets(new_prefix=mask))  # a mask shorter than the cluster's raises ValueError, as ever
    shift = net.max_prefixlen - mask
    base, last = int(net.network_address), int(net.broadcast_address)
    blocked: list[tuple[int, int]] = []
    for u in used:
        version, lo, hi = _span(u)
        lo, hi = max(lo, base), min(hi, last)
        if version == net.version and lo <= hi:
            blocked.append(((lo - base) >> shift, (hi - base) >> shift))
    first = 0
    for lo, hi in sorted(blocked):
        if lo > first:
            break
        first = max(first, hi + 1)
    if first >= 1 << (mask - net.prefixlen):
        return None
    return str(ipaddress.ip_network((base + (first << shift), mask)))


@functools.lru_cache(maxsize=65536)
def _span(cidr: str) -> tuple[int, int, int]:
    """A CIDR's (IP version, first, last address) as integers. Parsed once per string: nodes
    joining together each ask for the next free subnet, and parsing every node's CIDR again
    for each of them (ipaddress is pure Python) made that O(nodes^2): an eighth of the
    controller manager's CPU while 500 nodes joined."""
    t = ipaddress.ip_network(cidr, strict=False)
    return t.version, int(t.network_address), int(t.broadcast_address)


class NodeIpamController(QueueController):
    name = "nodeipam"

    def __init__(
        self,
        client: ApiClient,
        nodes: Informer,
        events: EventRecorder,
        cluster_cidr: str = "10.244.0.0/16",
        mask: int = 24,
    ) -> None:
        super().__init__(workers=1)
        self.client = client
        self.nodes = nodes
        self.events = events
        self.cluster_cidr = cluster_cidr
        self.mask = mask
        self._sent: dict[str, str] = {}  # node -> CIDR we patched, until the cache shows it
        # the cluster CIDR had no room left: a node's heartbeat must not retry (a scan and a
        # CIDRNotAvailable event per status write of every node left without one); a node
        # added, or one that goes away and frees its CIDR, tries again
        self._full = False
        nodes.add_handlers(self._added, lambda o, n: self._changed(n), self._deleted)

    def _added(self, node: Obj) -> None:
        self._changed(node, retry=True)

    def _deleted(self, _node: object) -> None:
        if self._full:
            self._full = False
            for n in self.nodes.list():
                self._changed(n)

    def _changed(self, node: Obj, retry: bool = False) -> None:
        if not (node.get("spec") or {}).get("podCIDR"):
            if retry or not self._full:
                self.enqueue(node)
        else:
            self._sent.pop(meta(node).get("name", ""), None)

    async def run(self, *informers: Informer) -> None:
        await super().run(self.nodes, *informers)

    async def sync(self, key: str) -> None:
        node = self.nodes.get(key)
        if node is None or (node.get("spec") or {}).get("podCIDR"):
            return
        used = used_cidrs(self.nodes.list()) | {c for n, c in self._sent.items() if n != key}
        cidr = self._sent.get(key) or next_free(self.cluster_cidr, self.mask, used)
        if cidr is None:
            self._full = True
            self.events.record(
                node, WARNING, "CIDRNotAvailable", f"Node {key} status is now: CIDRNotAvailable"
            )
            return
        self._sent[key] = cidr
        try:
            await self.client.patch("nodes", key, {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}})
        except ApiError as e:
            if e.code == 404:
                self._sent.pop(key, None)
                return
            raise

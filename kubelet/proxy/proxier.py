"""The service proxy loop: watch Services and EndpointSlices, program one nftables table.

Level-triggered like the controllers: informer handlers only mark the table dirty; one loop
rebuilds the whole rule set from the caches (`rules.ruleset`) and replaces the table in one
atomic `nft -f` transaction — never incremental edits, so a restart replaces (never
duplicates) the table, and a missed event is healed by the next rebuild. Changes within
`min_interval` are coalesced, so a burst of endpoint updates costs one transaction and the
rules follow an endpoints change well within a second. `stop()` removes the table.
Under sessionAffinity ClientIP the table holds which client sticks to which endpoint (dynamic
sets the packets fill); a replacement reads them first and carries them over, so a rebuild for
another service's sake does not unstick anyone.
Each rebuild also brings the node's health check listeners (`healthcheck`, one per
`healthCheckNodePort`, on `health_address`) in line with the same ports.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from api.informer import InformerFactory
from kubelet.proxy.conntrack import Flow, conntrack_clear, stale_flows
from kubelet.proxy.healthcheck import HealthChecks, health_checks
from kubelet.proxy.rules import TABLE, ServicePort, Sticky, ruleset, service_ports, slices_by_service

log = logging.getLogger(__name__)

ApplyFn = Callable[[str], None]  # replaces the table with this body


def nft_apply(body: str) -> None:
    from runtime.network import nft

    nft.apply_table("ip", TABLE, body)


def nft_sticky() -> Sticky:
    """What the affinity sets of the table now applied hold (`rules.affinity_set`)."""
    from runtime.network import nft

    return {name: held for name, held in nft.set_elements("ip", TABLE).items() if name.startswith("aff_")}


def nft_remove() -> None:
    from runtime.network import nft

    nft.delete_table("ip", TABLE)


class Proxier:
    def __init__(
        self,
        informers: InformerFactory,
        node_name: str = "",
        apply: ApplyFn = nft_apply,
        remove: Callable[[], None] = nft_remove,
        min_interval: float = 0.1,
        clear_udp: Callable[[list[Flow]], None] = conntrack_clear,
        sticky: Callable[[], Sticky] = nft_sticky,
        health_address: str | None = None,  # where health check ports listen (None: nowhere)
    ) -> None:
        self.services = informers.informer("services")
        self.slices = informers.informer("endpointslices")
        self.node_name = node_name  # whose endpoints a Local traffic policy keeps to
        self._apply = apply
        self._remove = remove
        self._min_interval = min_interval
        self._dirty = asyncio.Event()
        self.applied_body = ""
        self._clear_udp = clear_udp
        self._sticky = sticky
        self._applied_ports: list[ServicePort] = []
        self.health = HealthChecks(health_address) if health_address is not None else None
        self.applies = 0  # transactions sent
        self.rebuilds = 0  # rule sets computed (a rebuild that changes nothing sends none)
        for inf in (self.services, self.slices):
            inf.add_handlers(self._mark, lambda old, new: self._mark(new), self._mark)

    def _mark(self, _obj: Any = None) -> None:
        self._dirty.set()

    def current_ports(self) -> list[ServicePort]:
        return service_ports(self.services.list(), slices_by_service(self.slices.list()), self.node_name)

    def current_ruleset(self) -> str:
        return ruleset(self.current_ports())

    async def run(self) -> None:
        await asyncio.gather(self.services.synced.wait(), self.slices.synced.wait())
        self._dirty.set()
        try:
            await self._loop()
        finally:
            if self.health is not None:
                await self.health.close()

    async def _loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            ports = self.current_ports()
            body = ruleset(ports)
            self.rebuilds += 1
            if self.health is not None:
                await self.health.sync(health_checks(ports))
            if body != self.applied_body:
                try:
                    # the clients stuck to endpoints stay stuck: what the affinity sets hold goes
                    # into the new table (the body compared is without it: expiries tick)
                    sticky = await asyncio.to_thread(self._sticky) if any(p.affinity for p in ports) else {}
                    await asyncio.to_thread(self._apply, ruleset(ports, sticky) if sticky else body)
                    self.applied_body = body
                    self.applies += 1
                    stale = stale_flows(self._applied_ports, ports)
                    self._applied_ports = ports
                    if stale:  # UDP flows still NATed to what the new rules no longer say (conntrack.py)
                        await asyncio.to_thread(self._clear_udp, stale)
                except Exception:
                    log.exception("programming the service proxy failed; retrying")
                    self._dirty.set()
            await asyncio.sleep(self._min_interval)

    def stop(self) -> None:
        self._remove()

"""`FakeNetwork`: the Network Protocol in memory, for unit tests and hollow nodes.

Same observable behaviour as BridgeNetwork (ids and modes validated, addresses handed out from
the subnet skipping network/gateway/broadcast and reused only after teardown, duplicate setup
refused, teardown idempotent, port conflicts refused) without touching the kernel. Every call
is appended to `calls` as (method, args) so tests can assert what a caller asked for.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from runtime.datarecord import replace
from runtime.network.interface import (
    AddressesExhaustedError,
    NetworkError,
    PortMapping,
    SandboxExistsError,
    SandboxNet,
    check_mode,
    check_publish,
    check_sandbox_id,
)
from runtime.network.ipam import gateway_of, parse_subnet


class FakeNetwork:
    def __init__(self, subnet: str = "10.88.0.0/16", bridge: str = "kl0") -> None:
        self.net = parse_subnet(subnet)
        self.bridge = bridge
        self.gateway = str(gateway_of(self.net))
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.routes: dict[str, str] = {}
        self.ip_forward = False
        self._sandboxes: dict[str, SandboxNet] = {}
        self._next = int(self.net.network_address) + 2
        self._first, self._last = self._next, int(self.net.broadcast_address) - 1

    def _allocate(self) -> str:
        used = {s.ip for s in self._sandboxes.values()}
        size = self._last - self._first + 1
        for i in range(size):
            value = self._first + (self._next - self._first + i) % size
            ip = str(ipaddress.IPv4Address(value))
            if ip not in used:
                self._next = value + 1
                return ip
        raise AddressesExhaustedError(f"no free address left in {self.net}")

    def setup(
        self, sandbox_id: str, mode: str = "bridge", on_netns: Callable[[SandboxNet], None] | None = None
    ) -> SandboxNet:
        self.calls.append(("setup", (sandbox_id, mode)))
        check_sandbox_id(sandbox_id)
        check_mode(mode)
        if sandbox_id in self._sandboxes:
            raise SandboxExistsError(f"sandbox {sandbox_id} already has a network")
        if mode == "host":
            net = SandboxNet(sandbox_id, "", "", "", 0, "", "host")
        else:
            net = SandboxNet(sandbox_id, sandbox_id, f"/run/netns/{sandbox_id}", "", 0, "", mode)
            if mode == "bridge":
                net.ip, net.prefixlen, net.gateway = self._allocate(), self.net.prefixlen, self.gateway
        self._sandboxes[sandbox_id] = net
        if on_netns is not None and mode != "host":
            on_netns(replace(net))
        return replace(net)

    def teardown(self, sandbox_id: str) -> None:
        self.calls.append(("teardown", (sandbox_id,)))
        check_sandbox_id(sandbox_id)
        self._sandboxes.pop(sandbox_id, None)

    def wait_released(self, sandbox_id: str, timeout: float = 2.0) -> bool:
        self.calls.append(("wait_released", (sandbox_id, timeout)))
        return True

    def publish(self, sandbox_id: str, ports: list[PortMapping]) -> None:
        self.calls.append(("publish", (sandbox_id, list(ports))))
        check_sandbox_id(sandbox_id)
        net = check_publish(
            sandbox_id, self._sandboxes.get(sandbox_id), ports, list(self._sandboxes.values())
        )
        net.ports = list(ports)

    def list(self) -> list[SandboxNet]:
        return [replace(n, ports=list(n.ports)) for _, n in sorted(self._sandboxes.items())]

    def get(self, sandbox_id: str) -> SandboxNet | None:
        net = self._sandboxes.get(sandbox_id)
        return None if net is None else replace(net, ports=list(net.ports))

    def add_route(self, cidr: str, via: str) -> None:
        self.calls.append(("add_route", (cidr, via)))
        try:
            ipaddress.IPv4Network(cidr, strict=True)
            ipaddress.IPv4Address(via)
        except ValueError as exc:
            raise NetworkError(f"invalid route {cidr} via {via}: {exc}") from None
        self.routes[cidr] = via

    def remove_route(self, cidr: str) -> None:
        self.calls.append(("remove_route", (cidr,)))
        self.routes.pop(cidr, None)

    def enable_ip_forward(self) -> None:
        self.calls.append(("enable_ip_forward", ()))
        self.ip_forward = True

    def delete_bridge(self) -> None:
        self.calls.append(("delete_bridge", ()))

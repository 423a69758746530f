"""The `Network` seam: what a runtime needs to give a pod sandbox its network, and its data types.

`BridgeNetwork` (bridge.py, real kernel objects) and `FakeNetwork` (fake.py, memory only) both
satisfy it. Pure value types and validation live here so both share them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

MODES = ("bridge", "none", "host")
PROTOCOLS = ("tcp", "udp")

# A sandbox id names a file under /run/netns and under the state dir: keep it a plain name.
_SANDBOX_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$")


class NetworkError(RuntimeError):
    """A network operation failed; the message is one line meant for a user."""


class SandboxExistsError(NetworkError):
    pass


class SandboxNotFoundError(NetworkError):
    pass


class AddressesExhaustedError(NetworkError):
    pass


@dataclass
class NetworkConfig:
    """Where a BridgeNetwork keeps its state, and its bridge, subnet and MTU."""

    state_dir: Path
    bridge: str = "kl0"
    subnet: str = "10.88.0.0/16"
    mtu: int = 1500


@dataclass
class PortMapping:
    """`-p [HOST_IP:]HOST_PORT:CONTAINER_PORT[/PROTO]`; host_ip "" means every local address."""

    host_port: int
    container_port: int
    protocol: str = "tcp"
    host_ip: str = ""

    def __post_init__(self) -> None:
        for port in (self.host_port, self.container_port):
            if not isinstance(port, int) or not 1 <= port <= 65535:
                raise ValueError(f"port {port!r} is not in 1-65535")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol {self.protocol!r} is not one of {', '.join(PROTOCOLS)}")
        if self.host_ip:
            import ipaddress

            try:
                ipaddress.IPv4Address(self.host_ip)
            except ValueError:
                raise ValueError(f"host ip {self.host_ip!r} is not an IPv4 address") from None

    @classmethod
    def parse(cls, spec: str) -> PortMapping:
        """Parse docker's `-p` syntax: `8080:80`, `8080:80/udp`, `127.0.0.1:8080:80`."""
        body, _, proto = spec.partition("/")
        parts = body.split(":")
        try:
            if len(parts) == 2:
                return cls(int(parts[0]), int(parts[1]), proto or "tcp")
            if len(parts) == 3:
                return cls(int(parts[1]), int(parts[2]), proto or "tcp", parts[0])
        except ValueError as exc:
            raise ValueError(f"invalid port mapping {spec!r}: {exc}") from None
        raise ValueError(f"invalid port mapping {spec!r}: want [HOST_IP:]HOST_PORT:CONTAINER_PORT[/PROTO]")


@dataclass
class SandboxNet:
    """What setup made for a sandbox: its netns, address and published ports."""

    sandbox_id: str
    netns_name: str  # "" in host mode
    netns_path: str  # "" in host mode: the container keeps the caller's network namespace
    ip: str  # "" in none and host modes
    prefixlen: int
    gateway: str
    mode: str
    ports: list[PortMapping] = field(default_factory=list)


def check_sandbox_id(sandbox_id: str) -> None:
    if not isinstance(sandbox_id, str) or not _SANDBOX_ID.match(sandbox_id):
        raise NetworkError(
            f"invalid sandbox id {sandbox_id!r}: want 1-200 characters of [A-Za-z0-9_.-], not starting with . or -"
        )


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise NetworkError(f"invalid network mode {mode!r}: want one of {', '.join(MODES)}")


class Network(Protocol):
    def setup(self, sandbox_id: str, mode: str = "bridge",
              on_netns: Callable[[SandboxNet], None] | None = None) -> SandboxNet:
        """Give the sandbox a network; SandboxExistsError if it has one. Cleans up after itself on failure.

        `on_netns` (bridge and none modes) is called, from the calling thread, as soon as the
        namespace exists and the address is allocated, before the links are configured: a caller
        running setup in a thread can start `runc create` joining the netns meanwhile."""
        ...

    def teardown(self, sandbox_id: str) -> None:
        """Remove netns, address and published ports; idempotent, also for half-built sandboxes.

        The veth pair goes with the netns, reaped by the kernel shortly after (see wait_released)."""
        ...

    def wait_released(self, sandbox_id: str, timeout: float = 2.0) -> bool:
        """After teardown: wait until the kernel has reaped the veth pair (it does so asynchronously)."""
        ...

    def publish(self, sandbox_id: str, ports: list[PortMapping]) -> None:
        """Make the sandbox's published ports exactly `ports` (replaces; [] unpublishes)."""
        ...

    def list(self) -> list[SandboxNet]:
        """The sandboxes set up, read from disk state (survives a restart)."""
        ...

    def get(self, sandbox_id: str) -> SandboxNet | None: ...

    def add_route(self, cidr: str, via: str) -> None:
        """Route `cidr` (another node's pod CIDR) via `via`, in the caller's netns; replaces."""
        ...

    def remove_route(self, cidr: str) -> None:
        """Remove the route to `cidr`; idempotent."""
        ...

    def enable_ip_forward(self) -> None: ...

    def delete_bridge(self) -> None:
        """Remove the node bridge (`kubelite down`); idempotent."""
        ...

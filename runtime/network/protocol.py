"""The `Network` seam: what a runtime needs to give a pod sandbox its network.

`BridgeNetwork` (bridge.py, real kernel objects) and `FakeNetwork` (fake.py, memory only) both
satisfy it; the value types, errors and validation they share are in interface.py. This lives
apart because a Protocol needs `typing` at runtime, and `kubelite runtime run` (which uses
BridgeNetwork, never the Protocol) is timed from interpreter start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from runtime.network.interface import PortMapping, SandboxNet


class Network(Protocol):
    def setup(
        self, sandbox_id: str, mode: str = "bridge", on_netns: Callable[[SandboxNet], None] | None = None
    ) -> SandboxNet:
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

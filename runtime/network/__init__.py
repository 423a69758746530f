"""Pod sandbox networking for kubelite's runtime: netns + veth + bridge, on-disk IPAM, nftables.

Public API (everything importable from `runtime.network`; imports are cheap, no pyroute2):

    NetworkConfig(state_dir: str | PathLike, bridge="kl0", subnet="10.88.0.0/16", mtu=1500)
    SandboxNet(sandbox_id, netns_name, netns_path, ip, prefixlen, gateway, mode, ports=[])
    PortMapping(host_port, container_port, protocol="tcp", host_ip="");  PortMapping.parse("8080:80/tcp")

    class Network(Protocol):                       # BridgeNetwork(config) and FakeNetwork(subnet)
        setup(sandbox_id, mode="bridge") -> SandboxNet   # "bridge" | "none" (lo only) | "host" (nothing)
        teardown(sandbox_id) -> None                     # idempotent, also for half-built sandboxes
        wait_released(sandbox_id, timeout=2.0) -> bool   # the kernel reaps the veth ~15-35 ms later
        publish(sandbox_id, ports: list[PortMapping])    # replaces the set; [] unpublishes
        list() -> list[SandboxNet]; get(sandbox_id) -> SandboxNet | None   # from disk state
        add_route(cidr, via); remove_route(cidr); enable_ip_forward(); delete_bridge()

    write_etc_files(dir, hostname, ip, extra_hosts={name: ip}, dns_servers=[], searches=[], options=[])
        -> {"/etc/hosts": str, "/etc/resolv.conf": str, "/etc/hostname": str} (host paths)
    runtime.network.nft: apply_table(family, name, body), delete_table(family, name),
        list_tables() -> list[Table(family, name)], table_exists(family, name), NftError

Errors are NetworkError (SandboxExistsError, SandboxNotFoundError, AddressesExhaustedError)
with one-line messages; bad ports/hostnames raise ValueError.

Bridge mode: `/run/netns/<sandbox id>` (as `ip netns add` makes it), `lo` up, `eth0` inside
with an address from `config.subnet` (IPAM files under `state_dir/ipam`), default route via
the gateway (first address, on the bridge). The bridge and host veth end (`klv<hash>`) live in
the network namespace the caller runs in. `container:NAME` mode is the container layer's:
it joins the other sandbox's `netns_path`. Published ports: one nft table
`ip kubelite_pub_<hash>` per sandbox, DNAT in prerouting and output, reachable on any local
address including 127.0.0.1 (route_localnet is set on the bridge); see portmap.py.
"""

from __future__ import annotations

from runtime.network.interface import (
    AddressesExhaustedError,
    NetworkConfig,
    NetworkError,
    PortMapping,
    SandboxExistsError,
    SandboxNet,
    SandboxNotFoundError,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from typing import Any

    from runtime.network.bridge import BridgeNetwork, host_veth_name
    from runtime.network.etcfiles import write_etc_files
    from runtime.network.fake import FakeNetwork
    from runtime.network.protocol import Network

# Imported on first use: a `run --rm` pays only for what it touches.
_LAZY = {
    "BridgeNetwork": "runtime.network.bridge",
    "host_veth_name": "runtime.network.bridge",
    "write_etc_files": "runtime.network.etcfiles",
    "FakeNetwork": "runtime.network.fake",
    "Network": "runtime.network.protocol",  # a Protocol: defining one imports typing
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runtime.network' has no attribute {name!r}")
    # __import__ with a fromlist answers the submodule itself, without the `importlib` package (~0.4 ms)
    value = getattr(__import__(module, fromlist=[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "AddressesExhaustedError",
    "BridgeNetwork",
    "FakeNetwork",
    "Network",
    "NetworkConfig",
    "NetworkError",
    "PortMapping",
    "SandboxExistsError",
    "SandboxNet",
    "SandboxNotFoundError",
    "host_veth_name",
    "write_etc_files",
]

"""Node-side network settings the kubelet needs, always in the caller's own network namespace.

Routes to other nodes' pod CIDRs (pod-to-pod across nodes) and IPv4 forwarding. Deliberately
no masquerade of pod traffic leaving the node: pods get no way to the outside world here.
`/proc/sys/net` shows the namespace of the reading thread, so sysctls land in the caller's netns.
"""

from __future__ import annotations

from runtime.network.interface import NetworkError
from runtime.network.rtnl import Rtnl

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    import ipaddress

SYSCTL = "/proc/sys/net/ipv4"


def _cidr(cidr: str) -> ipaddress.IPv4Network:
    import ipaddress  # not at the top: `run` imports this module, not its routes (~4 ms)

    try:
        return ipaddress.IPv4Network(cidr, strict=True)
    except ValueError as exc:
        raise NetworkError(f"invalid CIDR {cidr!r}: {exc}") from None


def add_route(cidr: str, via: str) -> None:
    """Route `cidr` via gateway `via` in the main table, replacing any route to it."""
    import ipaddress

    net = _cidr(cidr)
    try:
        gateway = str(ipaddress.IPv4Address(via))
    except ValueError:
        raise NetworkError(f"invalid gateway {via!r}: not an IPv4 address") from None
    try:
        with Rtnl() as rtnl:
            rtnl.add_route(str(net.network_address), net.prefixlen, gateway, replace=True)
    except OSError as exc:
        raise NetworkError(f"cannot add route {net} via {gateway}: {exc.strerror}") from None


def remove_route(cidr: str) -> None:
    """Remove the main-table route to `cidr`; nothing to do when there is none."""
    net = _cidr(cidr)
    try:
        with Rtnl() as rtnl:
            rtnl.delete_route(str(net.network_address), net.prefixlen)
    except OSError as exc:
        raise NetworkError(f"cannot remove route {net}: {exc.strerror}") from None


def write_sysctl(relative: str, value: str) -> None:
    path = f"{SYSCTL}/{relative}"
    try:
        with open(path) as f:
            if f.read().strip() == value:
                return
        with open(path, "w") as f:
            f.write(value)
    except OSError as exc:
        raise NetworkError(f"cannot set {path} to {value}: {exc.strerror}") from None


def enable_ip_forward() -> None:
    """net.ipv4.ip_forward=1 in the caller's netns (needed to route between nodes' pod CIDRs)."""
    write_sysctl("ip_forward", "1")


def enable_route_localnet(interface: str) -> None:
    """Let 127.0.0.0/8 sources be routed out of `interface` (DNAT of 127.0.0.1 to a pod)."""
    write_sysctl(f"conf/{interface}/route_localnet", "1")

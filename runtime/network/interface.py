"""The `Network` seam's data types, errors and validation, shared by BridgeNetwork and FakeNetwork.

The seam itself, the `Network` Protocol, is in protocol.py (also importable from here and from
`runtime.network`): defining a Protocol imports `typing`, which `kubelite runtime run` skips.
"""

from __future__ import annotations

from runtime.datarecord import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from runtime.containers.rootfs import StrPath

MODES = ("bridge", "none", "host")
PROTOCOLS = ("tcp", "udp")

# A sandbox id names a file under /run/netns and under the state dir: keep it a plain name,
# [A-Za-z0-9_][A-Za-z0-9_.-]{0,199} (checked without `re`: it costs ~10 ms of a `run`)
_ID_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_ID_CHARS = _ID_FIRST | frozenset(".-")


class NetworkError(RuntimeError):
    """A network operation failed; the message is one line meant for a user."""


class SandboxExistsError(NetworkError):
    pass


class SandboxNotFoundError(NetworkError):
    pass


class AddressesExhaustedError(NetworkError):
    pass


@record
class NetworkConfig:
    """Where a BridgeNetwork keeps its state, and its bridge, subnet and MTU."""

    state_dir: StrPath  # str paths here: pathlib costs ~10 ms of a `run` (re, urllib.parse, ipaddress)
    bridge: str = "kl0"
    subnet: str = "10.88.0.0/16"
    mtu: int = 1500


@record
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


@record
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
    if (
        not isinstance(sandbox_id, str)
        or not 0 < len(sandbox_id) <= 200
        or sandbox_id[0] not in _ID_FIRST
        or not _ID_CHARS.issuperset(sandbox_id)
    ):
        raise NetworkError(
            f"invalid sandbox id {sandbox_id!r}: want 1-200 characters of [A-Za-z0-9_.-], not starting with . or -"
        )


def check_publish(
    sandbox_id: str, net: SandboxNet | None, ports: list[PortMapping], others: list[SandboxNet]
) -> SandboxNet:
    """The rules of every Network's `publish`: the sandbox has a network, in bridge mode when it
    publishes anything, and no host port (per protocol, per host IP or all) is published twice,
    by another sandbox or within `ports`. Returns `net`; NetworkError otherwise."""
    if net is None:
        raise SandboxNotFoundError(f"no network for sandbox {sandbox_id}")
    if ports and net.mode != "bridge":
        raise NetworkError(
            f"cannot publish ports of sandbox {sandbox_id}: it is in {net.mode} mode, not bridge"
        )
    taken: dict[tuple[str, int], tuple[str, str]] = {}  # (proto, port) -> (host ip, owner)
    for other in others:
        if other.sandbox_id != sandbox_id:
            for p in other.ports:
                taken[(p.protocol, p.host_port)] = (p.host_ip, other.sandbox_id)
    for p in ports:
        key = (p.protocol, p.host_port)
        if key in taken and (not p.host_ip or not taken[key][0] or taken[key][0] == p.host_ip):
            raise NetworkError(
                f"host port {p.host_port}/{p.protocol} is already published by sandbox {taken[key][1]}"
            )
        taken[key] = (p.host_ip, sandbox_id)
    return net


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise NetworkError(f"invalid network mode {mode!r}: want one of {', '.join(MODES)}")


def __getattr__(name: str) -> object:
    if name == "Network":  # its old home: the Protocol moved to protocol.py
        from runtime.network.protocol import Network

        return Network
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

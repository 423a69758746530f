"""`BridgeNetwork`: pod sandboxes as named netns joined to a node bridge by a veth pair.

Per sandbox in bridge mode: netns `/run/netns/<sandbox id>` with `lo` up; a veth whose host
end (`host_veth_name(id)`) is enslaved to `config.bridge` and whose peer is created directly
inside the netns as `eth0` (no move or rename step); an address from on-disk IPAM; a default
route via the gateway (the first address of the subnet, put on the bridge, whose MAC is set from
that address by `bridge_mac`, never left to the kernel to pick from its ports). `none` mode is
the netns with only `lo`; `host` mode creates nothing and records the sandbox for `list()`.

Everything host-side happens in the caller's current network namespace (a kubelite "node"
may be a process inside its own netns), through a netlink socket opened at call time.
Teardown only unmounts the netns: the kernel reaps the veth pair asynchronously once no process
is left in the namespace (~15-35 ms later), because a synchronous RTM_DELLINK costs 17-28 ms
here. Measured: setup ~3-7 ms, teardown < 1 ms, no pyroute2 import (see rtnl.py for why). Published ports are nft tables (portmap.py); nft is only run when
ports are published or unpublished, so `run --rm` without `-p` never forks a process here.
"""

from __future__ import annotations

import _socket  # not `socket` (its enum tables: ~2 ms of `run`); rtnl has loaded it already
import errno
import os

from runtime.network import host, netns
from runtime.network.interface import (
    NetworkConfig,
    NetworkError,
    PortMapping,
    SandboxNet,
    check_mode,
    check_publish,
    check_sandbox_id,
)
from runtime.network.ipam import Ipam
from runtime.network.records import Records
from runtime.network.rtnl import Rtnl

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from collections.abc import Callable  # `collections` is ~1.5 ms of a `run`'s start

LOOPBACK_INDEX = 1  # lo is always the first device of a new network namespace
CONTAINER_IFNAME = "eth0"
VETH_PREFIX = "klv"


def bridge_mac(gateway: str) -> bytes:
    """The bridge's hardware address: 0a:58 (locally administered, unicast) and the gateway's IPv4
    bytes, as the CNI bridge plugin once derived it. Set explicitly, it never changes. Left to the
    kernel, a bridge takes the lowest MAC of its ports, so it changes whenever a pod with a lower one
    comes or the pod with that one goes; the other pods still have the old MAC for the gateway in
    their ARP cache, and what they send to it (their replies to anything off the pod subnet) is no
    longer the bridge's: dropped for seconds, until that entry is probed again (kubernetes#30783)."""
    return b"\x0a\x58" + _socket.inet_aton(gateway)


def host_veth_name(sandbox_id: str) -> str:
    """The host end's name: a hash of the id, since interface names stop at 15 bytes."""
    try:  # the builtin module: `hashlib` loads OpenSSL first (~2-3 ms of every `run`)
        from _sha256 import sha256
    except ImportError:  # an interpreter built without it
        from hashlib import sha256

    return VETH_PREFIX + sha256(sandbox_id.encode()).hexdigest()[:12]


class BridgeNetwork:
    def __init__(self, config: NetworkConfig) -> None:
        if not 1 <= len(config.bridge) <= 15 or "/" in config.bridge or " " in config.bridge:
            raise NetworkError(f"invalid bridge name {config.bridge!r}: want 1-15 characters, no / or space")
        if not 68 <= config.mtu <= 65535:
            raise NetworkError(f"invalid MTU {config.mtu}: want 68-65535")
        self.config = config
        self.ipam = Ipam(config.state_dir, config.subnet)
        self.records = Records(config.state_dir)
        self.gateway = self.ipam.gateway_ip
        self.prefixlen = self.ipam.prefixlen
        self.broadcast = self.ipam.broadcast_ip

    # the Protocol

    def setup(
        self, sandbox_id: str, mode: str = "bridge", on_netns: Callable[[SandboxNet], None] | None = None
    ) -> SandboxNet:
        check_sandbox_id(sandbox_id)
        check_mode(mode)
        if mode == "host":
            net = SandboxNet(sandbox_id, "", "", "", 0, "", "host")
            self.records.claim(net)
            return net
        net = SandboxNet(sandbox_id, sandbox_id, str(netns.path_of(sandbox_id)), "", 0, "", mode)
        self.records.claim(net)
        step = "allocate an address"
        try:
            if mode == "bridge":
                net.ip = self.ipam.allocate(sandbox_id)
                net.prefixlen, net.gateway = self.prefixlen, self.gateway
                self.records.save(net)
            step = "create the network namespace"
            with Rtnl(netns.create(sandbox_id)) as inner:
                if on_netns is not None:
                    step = "start using the network namespace"
                    on_netns(
                        SandboxNet(
                            sandbox_id, sandbox_id, net.netns_path, net.ip, net.prefixlen, net.gateway, mode
                        )
                    )
                step = "bring up lo"
                inner.set_up(LOOPBACK_INDEX)
                if mode == "bridge":
                    step = f"prepare bridge {self.config.bridge}"
                    with Rtnl() as outer:
                        bridge_index = self._ensure_bridge(outer)
                        step = "create the veth pair"
                        fd = os.open(net.netns_path, os.O_RDONLY | os.O_CLOEXEC)
                        try:
                            self._add_veth(outer, sandbox_id, fd, bridge_index)
                        finally:
                            os.close(fd)
                    step = f"configure {CONTAINER_IFNAME}"
                    index = inner.link_index(CONTAINER_IFNAME)
                    inner.add_address(index, net.ip, net.prefixlen, self.broadcast)
                    inner.set_up(index)
                    step = "add the default route"
                    inner.add_route("0.0.0.0", 0, net.gateway)
        except BaseException as exc:
            if isinstance(exc, FileExistsError) and step == "create the network namespace":
                # Not ours to remove: someone else's netns of that name. Undo only our claims.
                if net.ip:
                    self.ipam.release(net.ip, sandbox_id)
                self.records.remove(sandbox_id)
                raise NetworkError(
                    f"cannot set up sandbox {sandbox_id}: netns {net.netns_path} already exists"
                    " (teardown of the id removes a leftover one)"
                ) from None
            self.teardown(sandbox_id)
            if isinstance(exc, OSError):
                raise NetworkError(
                    f"cannot set up sandbox {sandbox_id}: {step}: {exc.strerror or exc}"
                ) from None
            raise
        return net

    def _add_veth(self, outer: Rtnl, sandbox_id: str, netns_fd: int, bridge_index: int) -> None:
        name = host_veth_name(sandbox_id)
        try:
            outer.add_veth(name, CONTAINER_IFNAME, netns_fd, bridge_index, self.config.mtu)
        except FileExistsError:
            # The same id's previous veth, still waiting for the kernel to reap its old netns.
            outer.delete_link(name)
            outer.add_veth(name, CONTAINER_IFNAME, netns_fd, bridge_index, self.config.mtu)

    def _ensure_bridge(self, outer: Rtnl) -> int:
        """The bridge's index, creating it (up, gateway address, pinned MAC) if missing; tolerates extra
        addresses."""
        name = self.config.bridge
        mac = bridge_mac(self.gateway)
        try:
            index, current = outer.link(name)
        except OSError as exc:
            if exc.errno != errno.ENODEV:
                raise
            try:
                outer.add_bridge(name, self.config.mtu, mac)
            except FileExistsError:
                pass  # another process made it in between
            index, current = outer.link(name)
        if current != mac:  # a bridge made without it (by an older version, or by hand): pinned once
            outer.set_address(index, mac)
        outer.add_address(index, self.gateway, self.prefixlen, self.broadcast)
        outer.set_up(index)
        return index

    def teardown(self, sandbox_id: str) -> None:
        check_sandbox_id(sandbox_id)
        net = self.records.load(sandbox_id)
        try:
            if net is None or net.mode != "host":
                # Unmounting is enough: the veth's inner end lives in the netns, and when the
                # netns dies the kernel destroys the pair from a work queue (~15-35 ms later).
                # An explicit RTM_DELLINK would block this call 17-28 ms in synchronize_net.
                netns.remove(sandbox_id)
        except OSError as exc:
            raise NetworkError(f"cannot tear down sandbox {sandbox_id}: {exc.strerror or exc}") from None
        if net is None or net.ports:
            from runtime.network import nft, portmap

            nft.delete_table(portmap.FAMILY, portmap.table_name(sandbox_id))
        if net is not None and net.ip:
            self.ipam.release(net.ip, sandbox_id)
        elif net is None or net.mode == "bridge":
            self.ipam.release_owner(sandbox_id)  # crashed between allocation and the record update
        self.records.remove(sandbox_id)

    def wait_released(self, sandbox_id: str, timeout: float = 2.0) -> bool:
        """Wait until the kernel has reaped the sandbox's veth pair; False if it is still there.

        It stays while a process still runs inside the netns (stop containers first)."""
        import time

        name = host_veth_name(sandbox_id)
        deadline = time.monotonic() + timeout
        with Rtnl() as outer:
            while outer.link_exists(name):
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.005)
        return True

    def publish(self, sandbox_id: str, ports: list[PortMapping]) -> None:
        from runtime.network import nft, portmap

        check_sandbox_id(sandbox_id)
        net = check_publish(sandbox_id, self.records.load(sandbox_id), ports, self.records.all())
        table = portmap.table_name(sandbox_id)
        if ports:
            host.enable_route_localnet(self.config.bridge)
            nft.apply_table(portmap.FAMILY, table, portmap.render(net.ip, self.ipam.subnet, ports))
        else:
            nft.delete_table(portmap.FAMILY, table)
        net.ports = list(ports)
        self.records.save(net)

    def list(self) -> list[SandboxNet]:
        return self.records.all()

    def get(self, sandbox_id: str) -> SandboxNet | None:
        check_sandbox_id(sandbox_id)
        return self.records.load(sandbox_id)

    def add_route(self, cidr: str, via: str) -> None:
        host.add_route(cidr, via)

    def remove_route(self, cidr: str) -> None:
        host.remove_route(cidr)

    def enable_ip_forward(self) -> None:
        host.enable_ip_forward()

    def delete_bridge(self) -> None:
        """Remove the node bridge (for `kubelite down` and tests); idempotent."""
        with Rtnl() as outer:
            outer.delete_link(self.config.bridge)

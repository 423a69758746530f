"""IP address management on disk: one file per allocated address, claimed with an atomic link().

Layout: `STATE/ipam/<net>_<prefix>/<ip>` holds the owner (sandbox id); `last` holds the most
recently handed out address, so allocation walks forward from it (as CNI's host-local does)
and a just-freed address is not reused at once. A claim writes the owner into a temp file and
hard-links it to the address name: link() fails with EEXIST if anyone else holds it, so any
number of processes can allocate concurrently without a lock, a crash never leaves an empty
claim, and a restarted process sees exactly what is taken. The network address, the gateway
(first host address) and the broadcast address are never handed out.
"""

from __future__ import annotations

import os
from _thread import get_ident  # not `threading` (~1.5 ms import on `run`'s path)

from runtime.network import ipv4
from runtime.network.interface import AddressesExhaustedError, NetworkError
from runtime.textfile import read_file, unlink_missing_ok, write_file

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    import ipaddress
    from collections.abc import Iterator

    from runtime.containers.rootfs import StrPath


def parse_subnet(subnet: str) -> ipaddress.IPv4Network:
    import ipaddress  # here only: `run`'s path reads its subnet through ipv4.py

    try:
        net = ipaddress.IPv4Network(subnet, strict=True)
    except ValueError as exc:
        raise NetworkError(f"invalid subnet {subnet!r}: {exc}") from None
    if net.prefixlen > 30:
        raise NetworkError(f"subnet {subnet} is too small: want a prefix of /30 or shorter")
    return net


def gateway_of(net: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    return net.network_address + 1


class Ipam:
    """The subnet as ints and dotted strings (ipv4.py: no `ipaddress` on `run`'s path); `net` and
    `gateway` give the ipaddress objects."""

    def __init__(self, state_dir: StrPath, subnet: str) -> None:
        plain = ipv4.parse_network(subnet)
        if plain is None:  # another spelling, or invalid: ipaddress reads it (or says why not)
            net = parse_subnet(subnet)
            plain = int(net.network_address), net.prefixlen
        elif plain[1] > 30:
            raise NetworkError(f"subnet {subnet} is too small: want a prefix of /30 or shorter")
        network, self.prefixlen = plain
        self.subnet = f"{ipv4.to_text(network)}/{self.prefixlen}"  # str(self.net)
        self.gateway_ip = ipv4.to_text(network + 1)
        self.broadcast_ip = ipv4.to_text(network | ipv4.host_mask(self.prefixlen))
        # str paths: pathlib costs ~10 ms of a `run` (re, urllib.parse, ipaddress)
        self.dir = os.path.join(state_dir, "ipam", self.subnet.replace("/", "_"))
        self._first = network + 2  # after the gateway
        self._last = (network | ipv4.host_mask(self.prefixlen)) - 1  # before the broadcast address

    @property
    def net(self) -> ipaddress.IPv4Network:
        import ipaddress

        return ipaddress.IPv4Network(self.subnet)

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        import ipaddress

        return ipaddress.IPv4Address(self.gateway_ip)

    def allocate(self, owner: str) -> str:
        """Claim a free address for `owner`; AddressesExhaustedError when none is left."""
        os.makedirs(self.dir, exist_ok=True)
        tmp = f"{self.dir}/.claim-{os.getpid()}-{get_ident()}"
        write_file(tmp, owner)
        try:
            for value in self._candidates():
                ip = ipv4.to_text(value)
                try:
                    os.link(tmp, f"{self.dir}/{ip}")
                except FileExistsError:
                    continue
                self._write_last(ip)
                return ip
        finally:
            unlink_missing_ok(tmp)
        raise AddressesExhaustedError(f"no free address left in {self.subnet}")

    def _candidates(self) -> Iterator[int]:
        start = self._read_last()
        if start is None or not self._first <= start < self._last:
            start = self._first - 1
        yield from range(start + 1, self._last + 1)
        yield from range(self._first, start + 1)

    def _read_last(self) -> int | None:
        try:
            return ipv4.parse_address(read_file(f"{self.dir}/last").strip())  # None where ipaddress raises
        except OSError:
            return None

    def _write_last(self, ip: str) -> None:
        tmp = f"{self.dir}/.last-{os.getpid()}-{get_ident()}"
        write_file(tmp, ip)
        os.replace(tmp, f"{self.dir}/last")

    def release(self, ip: str, owner: str | None = None) -> bool:
        """Free `ip` (only if held by `owner`, when given); False when it was not held."""
        path = f"{self.dir}/{ip}"
        if owner is not None:
            try:
                if read_file(path) != owner:
                    return False
            except FileNotFoundError:
                return False
        try:
            os.unlink(path)
        except FileNotFoundError:
            return False
        return True

    def release_owner(self, owner: str) -> list[str]:
        """Free every address held by `owner` (the fallback when a sandbox's record is lost)."""
        return [ip for ip, who in self.allocations().items() if who == owner and self.release(ip, owner)]

    def allocations(self) -> dict[str, str]:
        """address -> owner, as on disk now."""
        result: dict[str, str] = {}
        try:
            entries = os.listdir(self.dir)
        except FileNotFoundError:
            return result
        for name in entries:
            if name.startswith(".") or name == "last":
                continue
            try:
                result[name] = read_file(f"{self.dir}/{name}")
            except FileNotFoundError:
                continue
        return result

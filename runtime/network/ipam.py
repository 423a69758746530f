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

import ipaddress
import os
from _thread import get_ident  # not `threading` (~1.5 ms import on `run`'s path)
from collections.abc import Iterator
from pathlib import Path

from runtime.network.interface import AddressesExhaustedError, NetworkError


def parse_subnet(subnet: str) -> ipaddress.IPv4Network:
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
    def __init__(self, state_dir: Path, subnet: str) -> None:
        self.net = parse_subnet(subnet)
        self.gateway = gateway_of(self.net)
        self.dir = Path(state_dir) / "ipam" / str(self.net).replace("/", "_")
        self._first = int(self.net.network_address) + 2  # after the gateway
        self._last = int(self.net.broadcast_address) - 1

    def allocate(self, owner: str) -> str:
        """Claim a free address for `owner`; AddressesExhaustedError when none is left."""
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".claim-{os.getpid()}-{get_ident()}"
        tmp.write_text(owner)
        try:
            for value in self._candidates():
                ip = str(ipaddress.IPv4Address(value))
                try:
                    os.link(tmp, self.dir / ip)
                except FileExistsError:
                    continue
                self._write_last(ip)
                return ip
        finally:
            tmp.unlink(missing_ok=True)
        raise AddressesExhaustedError(f"no free address left in {self.net}")

    def _candidates(self) -> Iterator[int]:
        start = self._read_last()
        if start is None or not self._first <= start < self._last:
            start = self._first - 1
        yield from range(start + 1, self._last + 1)
        yield from range(self._first, start + 1)

    def _read_last(self) -> int | None:
        try:
            return int(ipaddress.IPv4Address((self.dir / "last").read_text().strip()))
        except (OSError, ValueError):
            return None

    def _write_last(self, ip: str) -> None:
        tmp = self.dir / f".last-{os.getpid()}-{get_ident()}"
        tmp.write_text(ip)
        os.replace(tmp, self.dir / "last")

    def release(self, ip: str, owner: str | None = None) -> bool:
        """Free `ip` (only if held by `owner`, when given); False when it was not held."""
        path = self.dir / ip
        if owner is not None:
            try:
                if path.read_text() != owner:
                    return False
            except FileNotFoundError:
                return False
        try:
            path.unlink()
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
                result[name] = (self.dir / name).read_text()
            except FileNotFoundError:
                continue
        return result

"""Forwarding of names the cluster does not own to the node's resolvers (CoreDNS's `forward . /etc/resolv.conf`).

The query's bytes are relayed as they are (same ID, same EDNS) and the upstream's reply is
relayed back: the node's resolver does the recursion, caching and DNSSEC, we only pick it.
Upstreams come from a resolv.conf (the kubelet's `--resolv-conf`, /etc/resolv.conf by
default) and are tried in order, each with its own timeout; a client that asked over TCP
is forwarded over TCP (a truncated UDP reply is relayed with TC set, and the client retries
over TCP, as stub resolvers do). Every UDP query gets a fresh socket, hence a random source
port, so replies cannot be spoofed by guessing one. When no upstream answers, the caller
replies SERVFAIL.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from pathlib import Path

log = logging.getLogger(__name__)

Upstream = tuple[str, int]


def nameservers(resolv_conf: str) -> list[Upstream]:
    """The `nameserver` lines of a resolv.conf text, as (ip, 53)."""
    out: list[Upstream] = []
    for line in resolv_conf.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            try:
                out.append((str(ipaddress.ip_address(parts[1].split("%")[0])), 53))
            except ValueError:
                continue
    return out


def read_nameservers(path: str | Path) -> list[Upstream]:
    try:
        return nameservers(Path(path).read_text())
    except OSError:
        return []


class _OneReply(asyncio.DatagramProtocol):
    def __init__(self, query_id: bytes) -> None:
        self.query_id = query_id
        self.reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: object) -> None:
        if data[:2] == self.query_id and not self.reply.done():  # anything else is not our reply
            self.reply.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.reply.done():
            self.reply.set_exception(exc)


class Forwarder:
    def __init__(self, upstreams: list[Upstream], timeout: float = 2.0) -> None:
        self.upstreams = upstreams
        self.timeout = timeout

    async def query(self, wire: bytes, tcp: bool = False) -> bytes | None:
        """The first upstream's reply to `wire`, or None when none answered in time."""
        for host, port in self.upstreams:
            try:
                async with asyncio.timeout(self.timeout):
                    return await (self._tcp(host, port, wire) if tcp else self._udp(host, port, wire))
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as e:
                log.debug("upstream %s:%d: %r", host, port, e)
        return None

    async def _udp(self, host: str, port: int, wire: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        transport, proto = await loop.create_datagram_endpoint(
            lambda: _OneReply(wire[:2]), remote_addr=(host, port)
        )
        try:
            transport.sendto(wire)
            return await proto.reply
        finally:
            transport.close()

    async def _tcp(self, host: str, port: int, wire: bytes) -> bytes:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(len(wire).to_bytes(2, "big") + wire)
            await writer.drain()
            size = int.from_bytes(await reader.readexactly(2), "big")
            return await reader.readexactly(size)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

"""The cluster DNS server: asyncio UDP and TCP on one address, answering from the ClusterView.

`respond` is the whole decision for one query, synchronous and I/O-free: parse (dnspython),
look the name up (`records.answer`), render. A cluster name is answered on the spot, in the
datagram callback, with no task. dnspython spends ~200 us on parse and render, so rendered
cluster answers are kept, keyed by the query's bytes after its ID, with what they were made
of; a hit is served while the view says all of it is unchanged (the same Service and
Endpoints objects, the same pod and PTR index generations): a repeated question costs a dict
lookup and a few identity checks, and an answer is never staler than the informer cache. Only
names the cluster does not own (and an ExternalName's target) go to a task that forwards them
(`forward.Forwarder`). UDP replies respect the client's EDNS payload size (512 bytes without
EDNS) and are truncated with TC set when too big, so the client retries over TCP; TCP carries
any number of length-prefixed queries per connection until the client closes it or idles.
UDP is bound to the exact address given (not 0.0.0.0): a reply must leave from the address
the service proxy DNATed the query to, or conntrack cannot undo the DNAT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype

from kubelet.dns.forward import Forwarder
from kubelet.dns.records import Answer, ClusterView, answer, soa

log = logging.getLogger(__name__)

TCP_IDLE = 10.0  # seconds a TCP client may stay silent between queries
CACHE_SIZE = 10_000  # rendered cluster answers kept (each while what it read is unchanged)


class DnsServer:
    def __init__(
        self,
        view: ClusterView,
        zone: str = "cluster.local",
        forwarder: Forwarder | None = None,
        host: str = "127.0.0.1",
        port: int = 53,
    ) -> None:
        self.view = view
        self.zone = dns.name.from_text(zone.strip(".") + ".")
        self.forwarder = forwarder or Forwarder([])
        self.host, self.port = host, port
        self.queries = 0
        self.forwarded = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._cache: dict[tuple[bytes, int | None], tuple[bytes, Any]] = {}

    # --- the decision -----------------------------------------------------------------------
    def respond(
        self, wire: bytes, max_size: int | None = 65535
    ) -> tuple[bytes | None, dns.message.Message | None]:
        """(reply bytes, None), or (None, the parsed query) when the query must be forwarded.
        `max_size` None means UDP: the client's EDNS payload size, 512 without EDNS."""
        self.queries += 1
        key = (wire[2:], max_size)  # the query but its ID
        hit = self._cache.get(key)
        if hit is not None:
            if self.view.unchanged(hit[1]):
                return wire[:2] + hit[0], None
            del self._cache[key]
        try:
            q = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return (_formerr(wire), None) if len(wire) >= 12 else (None, None)
        if q.opcode() != dns.opcode.QUERY or len(q.question) != 1:
            r = dns.message.make_response(q)
            r.set_rcode(dns.rcode.NOTIMP if q.opcode() != dns.opcode.QUERY else dns.rcode.FORMERR)
            return r.to_wire(), None
        question = q.question[0]
        self.view.start_reads()
        try:
            found = answer(self.view, self.zone, question.name, question.rdtype)
            target = _cname_target(found, question.rdtype)
            if found is not None and target is not None and target.is_subdomain(self.zone):
                inner = answer(
                    self.view, self.zone, target, question.rdtype
                )  # an ExternalName into the cluster
                found.answer += inner.answer if inner is not None else []
                target = None
        finally:
            reads = self.view.stop_reads()
        if found is None:
            return None, q
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA | dns.flags.RA  # RA: other names are forwarded
        r.set_rcode(found.rcode)
        r.answer = found.answer
        r.additional = found.additional
        if not found.answer:
            r.authority = [soa(self.zone)]
        elif target is not None and self.forwarder.upstreams:
            return None, q  # an ExternalName: the target's records come from upstream (`resolve`)
        reply = _render(r, q, max_size)
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()  # crude, but bounded; refilled by the questions actually asked
        if CACHE_SIZE:
            self._cache[key] = (reply[2:], reads)
        return reply, None

    async def resolve(self, q: dns.message.Message, wire: bytes, tcp: bool) -> bytes:
        """A forwarded query's reply; an ExternalName's CNAME followed by its target's records."""
        self.forwarded += 1
        question = q.question[0]
        found = answer(self.view, self.zone, question.name, question.rdtype)
        if found is None:
            reply = await self.forwarder.query(wire, tcp)
            return reply if reply is not None else _servfail(q)
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA | dns.flags.RA
        r.answer = list(found.answer)
        target = found.answer[-1][0].target
        chased = dns.message.make_query(target, question.rdtype)
        reply = await self.forwarder.query(chased.to_wire(), tcp)
        if reply is not None:
            with contextlib.suppress(dns.exception.DNSException):
                r.answer += dns.message.from_wire(reply).answer
        return _render(r, q, 65535 if tcp else None)

    # --- the shells -------------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        wanted = self.port
        for _ in range(20):  # port 0 (tests): TCP takes the kernel's UDP choice, which TCP may have in use
            self._udp, _ = await loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=(self.host, wanted)
            )
            self.port = self._udp.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, self.host, self.port)
                break
            except OSError:
                self._udp.close()
                if wanted:
                    raise
        log.info("cluster DNS on %s:%d (udp, tcp) for %s", self.host, self.port, self.zone)

    async def run(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            self.close()

    def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
        for t in list(self._tasks):
            t.cancel()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _forward_udp(self, q: dns.message.Message, wire: bytes, addr: tuple[str, int]) -> None:
        reply = await self.resolve(q, wire, tcp=False)
        if self._udp is not None and not self._udp.is_closing():
            self._udp.sendto(reply, addr)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                async with asyncio.timeout(TCP_IDLE):
                    size = int.from_bytes(await reader.readexactly(2), "big")
                    wire = await reader.readexactly(size)
                try:
                    reply, q = self.respond(wire, 65535)
                    if reply is None and q is not None:
                        reply = await self.resolve(q, wire, tcp=True)
                except Exception:
                    log.exception("answering a DNS query over TCP failed")
                    reply = _formerr(wire, dns.rcode.SERVFAIL) if len(wire) >= 12 else None
                if reply is None:
                    return
                writer.write(len(reply).to_bytes(2, "big") + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            reply, q = self.server.respond(data, None)
        except Exception:
            log.exception("answering a DNS query failed")
            reply, q = (_formerr(data, dns.rcode.SERVFAIL) if len(data) >= 12 else None), None
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)
        elif q is not None:
            self.server._spawn(self.server._forward_udp(q, data, addr))


def _cname_target(found: Answer | None, qtype: int) -> dns.name.Name | None:
    """The name an answer's CNAME points to, when the question asked for something else."""
    if found is None or not found.answer or qtype == dns.rdatatype.CNAME:
        return None
    last = found.answer[-1]
    return last[0].target if last.rdtype == dns.rdatatype.CNAME else None


def _render(r: dns.message.Message, q: dns.message.Message, max_size: int | None) -> bytes:
    limit = max_size if max_size is not None else (max(512, q.payload) if q.edns >= 0 else 512)
    try:
        return r.to_wire(max_size=limit)
    except dns.exception.TooBig:
        r.answer, r.authority, r.additional = [], [], []
        r.flags |= dns.flags.TC
        return r.to_wire(max_size=limit)


def _servfail(q: dns.message.Message) -> bytes:
    r = dns.message.make_response(q)
    r.set_rcode(dns.rcode.SERVFAIL)
    return r.to_wire()


def _formerr(wire: bytes, rcode: int = dns.rcode.FORMERR) -> bytes:
    """An error header echoing the query's ID (the rest could not be parsed, or answering failed)."""
    flags = (0x80 | (wire[2] & 0x79)) << 8 | rcode  # QR, the query's opcode and RD
    return wire[:2] + flags.to_bytes(2, "big") + bytes(8)

"""The DNS server on loopback, asked over UDP and TCP with dnspython's own resolver and query functions.

The server runs on its own event loop in a thread, as in the agent; names outside the cluster
go to a tiny upstream server started here (these machines reach no real resolver).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest

from api.informer import key_of
from kubelet.dns.forward import Forwarder, nameservers
from kubelet.dns.server import DnsServer
from tests.dns.fixtures import cluster, eps, svc


class Upstream(asyncio.DatagramProtocol):
    """A resolver that knows one name: example.org A 192.0.2.1 (and NXDOMAIN for the rest)."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.asked: list[str] = []

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def reply(self, data: bytes) -> bytes:
        q = dns.message.from_wire(data)
        self.asked.append(q.question[0].name.to_text())
        r = dns.message.make_response(q)
        if q.question[0].name.to_text().lower() == "example.org." and q.question[0].rdtype == dns.rdatatype.A:
            r.answer.append(dns.rrset.from_text("example.org.", 60, "IN", "A", "192.0.2.1"))
        else:
            r.set_rcode(dns.rcode.NXDOMAIN)
        return r.to_wire()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.transport.sendto(self.reply(data), addr)

    async def serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        size = int.from_bytes(await reader.readexactly(2), "big")
        answer = self.reply(await reader.readexactly(size))
        writer.write(len(answer).to_bytes(2, "big") + answer)
        await writer.drain()
        writer.close()


class Running:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.view, self.informers = cluster()
        self.upstream = Upstream()
        self.server: DnsServer | None = None
        started = threading.Event()

        async def main() -> None:
            for _ in range(20):  # a UDP port whose TCP twin is free too
                t, _ = await self.loop.create_datagram_endpoint(
                    lambda: self.upstream, local_addr=("127.0.0.1", 0)
                )
                up_port = t.get_extra_info("sockname")[1]
                try:
                    self.upstream_tcp = await asyncio.start_server(
                        self.upstream.serve_tcp, "127.0.0.1", up_port
                    )
                    break
                except OSError:
                    t.close()
            self.server = DnsServer(
                self.view,
                forwarder=Forwarder([("127.0.0.1", up_port)], timeout=1.0),
                host="127.0.0.1",
                port=0,
            )
            await self.server.start()
            started.set()

        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(main(), self.loop).result(10)
        assert started.wait(10)

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    def call(self, fn: Any) -> Any:
        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def stop(self) -> None:
        assert self.server is not None
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    r = Running()
    yield r
    r.stop()


def resolver(port: int) -> dns.resolver.Resolver:
    res = dns.resolver.Resolver(configure=False)
    res.nameservers, res.port, res.lifetime = ["127.0.0.1"], port, 3.0
    res.search = [
        dns.name.from_text("default.svc.cluster.local."),
        dns.name.from_text("svc.cluster.local."),
        dns.name.from_text("cluster.local."),
    ]
    res.ndots = 5
    return res


@pytest.mark.parametrize("tcp", [False, True])
def test_resolver_finds_a_service_by_short_name(server: Running, tcp: bool) -> None:
    got = resolver(server.port).resolve("web", "A", tcp=tcp, search=True)
    assert [r.to_text() for r in got] == ["10.96.0.20"]
    assert got.qname.to_text() == "web.default.svc.cluster.local."
    assert got.response.flags & dns.flags.AA


@pytest.mark.parametrize("tcp", [False, True])
def test_srv_and_headless(server: Running, tcp: bool) -> None:
    res = resolver(server.port)
    srv = res.resolve("_pg._tcp.db.default.svc.cluster.local.", "SRV", tcp=tcp)
    assert sorted(r.target.to_text() for r in srv) == [
        "10-244-1-9.db.default.svc.cluster.local.",
        "db-0.db.default.svc.cluster.local.",
        "db-1.db.default.svc.cluster.local.",
    ]
    assert sorted(r.to_text() for r in res.resolve("db.default", "A", tcp=tcp, search=True)) == [
        "10.244.0.7",
        "10.244.1.8",
        "10.244.1.9",
    ]


def test_nxdomain_carries_the_soa(server: Running) -> None:
    q = dns.message.make_query("nope.default.svc.cluster.local.", "A")
    r = dns.query.udp(q, "127.0.0.1", port=server.port, timeout=3)
    assert r.rcode() == dns.rcode.NXDOMAIN and r.id == q.id
    assert r.authority[0].rdtype == dns.rdatatype.SOA and r.authority[0].name.to_text() == "cluster.local."


@pytest.mark.parametrize("tcp", [False, True])
def test_other_names_are_forwarded_upstream(server: Running, tcp: bool) -> None:
    got = resolver(server.port).resolve("example.org.", "A", tcp=tcp)
    assert [r.to_text() for r in got] == ["192.0.2.1"]
    assert not got.response.flags & dns.flags.AA  # the upstream's answer, relayed as it came
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver(server.port).resolve("nothing.example.", "A")
    assert "nothing.example." in server.upstream.asked


def test_no_upstream_answering_is_servfail() -> None:
    async def ask() -> bytes:
        view, _ = cluster()
        dead = DnsServer(view, forwarder=Forwarder([("127.0.0.1", 9)], timeout=0.3), host="127.0.0.1", port=0)
        q = dns.message.make_query("example.org.", "A")
        reply, parsed = dead.respond(q.to_wire(), None)
        assert reply is None and parsed is not None
        return await dead.resolve(parsed, q.to_wire(), tcp=False)

    r = dns.message.from_wire(asyncio.run(ask()))
    assert r.rcode() == dns.rcode.SERVFAIL


def test_external_name_is_chased_upstream(server: Running) -> None:
    got = resolver(server.port).resolve("ext.default.svc.cluster.local.", "A")
    assert [r.to_text() for r in got] == ["192.0.2.1"]
    assert got.response.answer[0].rdtype == dns.rdatatype.CNAME


def test_external_name_into_the_cluster_is_answered_here(server: Running) -> None:
    alias = svc("alias", cluster_ip="", type="ExternalName", externalName="web.default.svc.cluster.local")
    server.call(lambda: server.informers["services"]._apply("ADDED", key_of(alias), alias))
    got = resolver(server.port).resolve("alias.default.svc.cluster.local.", "A")
    assert [r.to_text() for r in got] == ["10.96.0.20"]
    assert "web.default.svc.cluster.local." not in server.upstream.asked


def test_big_answers_truncate_over_udp_and_come_whole_over_tcp(server: Running) -> None:
    many = [{"ip": f"10.244.2.{i}"} for i in range(1, 80)]

    def add() -> None:
        server.informers["services"]._apply("ADDED", "default/big", svc("big", cluster_ip="None"))
        server.informers["endpoints"]._apply("ADDED", "default/big", eps("big", addresses=many))

    server.call(add)
    q = dns.message.make_query("big.default.svc.cluster.local.", "A", use_edns=False)
    r = dns.query.udp(q, "127.0.0.1", port=server.port, timeout=3)
    assert r.flags & dns.flags.TC and not r.answer
    r = dns.query.tcp(q, "127.0.0.1", port=server.port, timeout=3)
    assert len(r.answer[0]) == 79
    assert len(resolver(server.port).resolve("big.default.svc.cluster.local.", "A")) == 79  # retries over TCP


def test_answers_follow_the_cache(server: Running) -> None:
    new = svc("late", cluster_ip="10.96.0.77")
    server.call(lambda: server.informers["services"]._apply("ADDED", key_of(new), new))
    got = resolver(server.port).resolve("late.default.svc.cluster.local.", "A")
    assert [r.to_text() for r in got] == ["10.96.0.77"]


def test_garbage_gets_formerr_or_nothing(server: Running) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(b"\x12\x34\x01\x00" + b"\xff" * 20, ("127.0.0.1", server.port))
        reply = s.recv(512)
    assert reply[:2] == b"\x12\x34" and reply[3] & 0x0F == dns.rcode.FORMERR


def test_cluster_answers_take_well_under_a_millisecond(server: Running) -> None:
    """The server's own work per query (parse, look up, render), timed without the client's share of the
    GIL; bench/dns.py measures the round trip from another process."""
    dns_server = server.server
    assert dns_server is not None
    wire = dns.message.make_query("web.default.svc.cluster.local.", "A").to_wire()

    def median(invalidate: bool) -> float:
        times = []
        for _ in range(300):
            if invalidate:
                dns_server._cache.clear()
            t = time.perf_counter()
            reply, _q = dns_server.respond(wire, None)
            times.append(time.perf_counter() - t)
            assert reply is not None
        return sorted(times)[len(times) // 2]

    assert median(invalidate=True) < 0.001  # parsed, looked up and rendered: ~0.2 ms
    assert median(invalidate=False) < 0.0001  # a repeated question: the rendered answer


def test_a_cached_answer_changes_with_the_service(server: Running) -> None:
    new = svc("moving", cluster_ip="10.96.0.81")
    server.call(lambda: server.informers["services"]._apply("ADDED", key_of(new), new))
    res = resolver(server.port)
    assert [r.to_text() for r in res.resolve("moving.default.svc.cluster.local.", "A")] == ["10.96.0.81"]
    moved = {
        **new,
        "metadata": {**new["metadata"], "resourceVersion": "2"},
        "spec": {**new["spec"], "clusterIP": "10.96.0.82"},
    }
    server.call(lambda: server.informers["services"]._apply("MODIFIED", key_of(moved), moved))
    assert [r.to_text() for r in res.resolve("moving.default.svc.cluster.local.", "A")] == ["10.96.0.82"]


def test_nameservers_from_resolv_conf() -> None:
    text = "# comment\nsearch example\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:2\n"
    assert nameservers(text) == [("10.0.0.2", 53), ("fe80::1", 53)]

"""The kubelet's port-forward, without a cluster: SPDY/3.1 framing, the SPDY session kubectl talks
to (driven frame by frame as spdystream would), and the v4 channel protocol, both against a real
TCP server on loopback standing in for the pod's port."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kubelet import spdy
from kubelet.portforward import (
    PortForwardError,
    choose_protocol,
    dial_pod,
    forward_error,
    parse_ports,
    serve_channels,
)
from kubelet.spdysession import SpdySession, serve_spdy_tunnel
from tests.apiserver.conftest import free_port


# --- framing ------------------------------------------------------------------------------
def test_dictionary_is_the_spdy3_one() -> None:
    # 1423 bytes, and its Adler-32 is the DICTID Go's zlib writer puts in the stream header
    assert len(spdy.DICTIONARY) == 1423
    assert zlib.adler32(spdy.DICTIONARY) == 0xE3C6A7C2
    assert spdy.DICTIONARY.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")
    assert spdy.DICTIONARY.endswith(b",*,enq=0.")


def test_frames_round_trip_with_one_zlib_context_per_direction() -> None:
    client, server = spdy.Framer(), spdy.Framer()
    wire = b"".join(
        [
            client.syn_stream(1, {"streamtype": ["error"], "port": ["80"], "requestid": ["0"]}),
            client.syn_stream(3, {"streamtype": ["data"], "port": ["80"], "requestid": ["0"]}),
            *spdy.data_frames(3, b"x" * 70000, fin=True),
            spdy.ping(1),
            spdy.rst_stream(5, spdy.RST_CANCEL),
            spdy.goaway(3),
        ]
    )
    frames = []
    for i in range(0, len(wire), 7):  # arbitrary splits: the tunnel is a byte stream
        frames += server.feed(wire[i : i + 7])
    kinds = [(f.kind, f.stream_id) for f in frames]
    assert kinds == [
        (spdy.SYN_STREAM, 1),
        (spdy.SYN_STREAM, 3),
        (spdy.DATA, 3),
        (spdy.DATA, 3),
        (spdy.DATA, 3),
        (spdy.PING, 0),
        (spdy.RST_STREAM, 5),
        (spdy.GOAWAY, 3),
    ]
    assert frames[1].header("streamtype") == "data" and frames[1].header("Port") == "80"
    assert b"".join(f.data for f in frames if f.kind == spdy.DATA) == b"x" * 70000
    assert [f.fin for f in frames if f.kind == spdy.DATA] == [False, False, True]
    assert frames[5].value == 1 and frames[6].value == spdy.RST_CANCEL
    reply = client.feed(server.syn_reply(3))[0]
    assert reply.kind == spdy.SYN_REPLY and reply.stream_id == 3 and reply.headers == {}


def test_bad_input_is_a_spdy_error() -> None:
    with pytest.raises(spdy.SpdyError):
        spdy.Framer().feed(b"\x80\x02\x00\x01\x00\x00\x00\x00")  # SPDY/2
    with pytest.raises(spdy.SpdyError):
        spdy.Framer().feed(b"\x80\x03\x00\x01\x00\x00\x00\x0c" + b"\x00" * 10 + b"xx")  # not zlib
    with pytest.raises(spdy.SpdyError):
        spdy.decode_header_block(b"\x00\x00\x00\x01\x00\x00\x00\x04Port\x00\x00\x00\x0280")  # uppercase


def test_ports_and_protocols() -> None:
    assert parse_ports([("port", "80"), ("port", "81"), ("container", "x")]) == [80, 81]
    assert parse_ports([("ports", "80,8080")]) == [80, 8080]
    with pytest.raises(PortForwardError, match="must be > 0"):
        parse_ports([("port", "0")])
    with pytest.raises(PortForwardError, match="unable to parse"):
        parse_ports([("port", "http")])
    assert (
        choose_protocol(["v4.channel.k8s.io", "SPDY/3.1+portforward.k8s.io"]) == "SPDY/3.1+portforward.k8s.io"
    )
    assert choose_protocol(["v4.channel.k8s.io"]) == "v4.channel.k8s.io"
    assert choose_protocol(["v5.channel.k8s.io"]) is None
    assert (
        forward_error(80, "p", "u", ConnectionRefusedError(111, "refused"))
        == "error forwarding port 80 to pod p, uid u: refused"
    )


# --- a pod port on loopback -------------------------------------------------------------------
def with_echo_port(test: Callable[[int], Awaitable[None]]) -> None:
    """Run `test(port)` with a server on `port` that answers `echo:` + what it got once the client
    half-closes (as an HTTP/1.0 server would)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()
        writer.write(b"echo:" + data)
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        try:
            await asyncio.wait_for(test(server.sockets[0].getsockname()[1]), 10)
        finally:
            server.close()

    asyncio.run(main())


async def dial_loopback(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await dial_pod("", port)


class Peer:
    """kubectl's side of the SPDY session: frames out through the session, frames back parsed."""

    def __init__(self) -> None:
        self.framer = spdy.Framer()
        self.got: list[spdy.Frame] = []
        self.arrived = asyncio.Event()
        self.session = SpdySession(self._from_server, dial_loopback, "web-1", "uid-1")

    def _from_server(self, data: bytes) -> None:
        self.got += self.framer.feed(data)
        self.arrived.set()

    def open(self, request: str, port: int) -> None:
        sid = 1 + 4 * int(request)
        for kind, stream in (("error", sid), ("data", sid + 2)):
            self.session.received(
                self.framer.syn_stream(
                    stream, {"streamtype": [kind], "port": [str(port)], "requestid": [request]}
                )
            )
        self.session.received(
            b"".join(spdy.data_frames(sid, b"", fin=True))
        )  # kubectl closes its error stream

    async def until(self, check: Any, timeout: float = 5) -> None:
        async with asyncio.timeout(timeout):
            while not check():
                self.arrived.clear()
                await self.arrived.wait()

    def data(self, stream: int) -> bytes:
        return b"".join(f.data for f in self.got if f.kind == spdy.DATA and f.stream_id == stream)

    def finished(self, stream: int) -> bool:
        return any(f.kind == spdy.DATA and f.stream_id == stream and f.fin for f in self.got)


def test_spdy_session_forwards_and_closes_both_streams() -> None:
    with_echo_port(_forwards_and_closes)


async def _forwards_and_closes(echo_port: int) -> None:
    peer = Peer()
    peer.open("0", echo_port)
    await peer.until(lambda: sum(f.kind == spdy.SYN_REPLY for f in peer.got) == 2)
    peer.session.received(b"".join(spdy.data_frames(3, b"GET /", fin=True)))
    await peer.until(lambda: peer.finished(3) and peer.finished(1))
    assert peer.data(3) == b"echo:GET /"
    assert peer.data(1) == b""  # no error
    await peer.session.close()


def test_spdy_session_refused_port_is_told_on_the_error_stream() -> None:
    asyncio.run(_refused())


async def _refused() -> None:
    peer = Peer()
    port = free_port()  # bound, then closed: refused
    peer.open("7", port)
    await peer.until(lambda: peer.finished(29) and peer.finished(31))
    text = peer.data(29).decode()
    assert text.startswith(
        f"error forwarding port {port} to pod web-1, uid uid-1: failed to connect to localhost:{port}"
    )
    assert text.endswith("connect: connection refused")


def test_spdy_session_answers_pings_and_refuses_unknown_streams() -> None:
    asyncio.run(_pings())


async def _pings() -> None:
    peer = Peer()
    peer.session.received(spdy.ping(5) + peer.framer.syn_stream(1, {"streamtype": ["bogus"]}))
    await peer.until(lambda: len(peer.got) == 2)
    assert (peer.got[0].kind, peer.got[0].value) == (spdy.PING, 5)
    assert (peer.got[1].kind, peer.got[1].stream_id, peer.got[1].value) == (
        spdy.RST_STREAM,
        1,
        spdy.RST_PROTOCOL_ERROR,
    )


# --- v4.channel.k8s.io --------------------------------------------------------------------------
def test_channels_port_prefix_data_and_errors() -> None:
    with_echo_port(_channels)


async def _channels(echo_port: int) -> None:
    refused = free_port()  # bound, then closed: refused
    inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg)

    serving = asyncio.ensure_future(
        serve_channels(inbound.get, send, [echo_port, refused], dial_loopback, "p", "u")
    )
    inbound.put_nowait({"type": "websocket.receive", "bytes": b"\x00hello"})
    inbound.put_nowait({"type": "websocket.disconnect"})  # the client goes: the pod side is half-closed
    await asyncio.wait_for(serving, 5)
    frames = [m["bytes"] for m in sent if m["type"] == "websocket.send"]
    port_le, refused_le = echo_port.to_bytes(2, "little"), refused.to_bytes(2, "little")
    assert frames[:4] == [b"\x00" + port_le, b"\x01" + port_le, b"\x02" + refused_le, b"\x03" + refused_le]
    assert b"".join(f[1:] for f in frames[4:] if f[0] == 0) == b"echo:hello"
    errors = [f[1:].decode() for f in frames[4:] if f[0] == 3]
    assert len(errors) == 1 and errors[0].startswith(f"error forwarding port {refused} to pod p, uid u:")
    assert not [f for f in frames[4:] if f[0] in (1, 2)]


# --- the SPDY session inside an ASGI WebSocket -----------------------------------------------
def test_spdy_tunnel_carries_a_large_answer_in_order() -> None:
    """5 MB from the pod to a client that takes frames slowly: all of it, in order, then both FINs."""
    big = bytes(range(256)) * (5 * 4096)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(4)
        writer.write(big)
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = spdy.Framer()
        inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for frame in (
            client.syn_stream(1, {"streamtype": ["error"], "port": [str(port)], "requestid": ["0"]}),
            client.syn_stream(3, {"streamtype": ["data"], "port": [str(port)], "requestid": ["0"]}),
            *spdy.data_frames(3, b"GET!"),
        ):
            inbound.put_nowait({"type": "websocket.receive", "bytes": frame})
        got: list[spdy.Frame] = []
        done = asyncio.Event()

        async def send(msg: dict[str, Any]) -> None:
            if msg["type"] != "websocket.send":
                return
            await asyncio.sleep(0)  # a slow reader
            got.extend(client.feed(msg["bytes"]))
            if any(f.kind == spdy.DATA and f.stream_id == 1 and f.fin for f in got):
                done.set()

        tunnel = asyncio.ensure_future(serve_spdy_tunnel(inbound.get, send, dial_loopback, "web-1", "uid-1"))
        await asyncio.wait_for(done.wait(), 20)
        inbound.put_nowait({"type": "websocket.disconnect"})
        await asyncio.wait_for(tunnel, 5)
        server.close()
        data = b"".join(f.data for f in got if f.kind == spdy.DATA and f.stream_id == 3)
        assert data == big

    asyncio.run(main())

"""The API server's listener accepts every queued connection at one loop turn (libuv's own takes
one a turn), serves TLS through the loop, and stops accepting when closed. Run on uvloop, the
loop the server runs on."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

import pytest
import uvloop

from apiserver import certs
from apiserver.listener import GreedyListener, listening_socket


class Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data.upper())  # type: ignore[attr-defined]


def queued_connections(port: int, n: int) -> list[socket.socket]:
    """n clients whose connections the kernel completed and queued for accept()."""
    return [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]


@pytest.mark.parametrize("cap", [256, 10])
def test_one_turn_accepts_every_queued_connection_up_to_the_cap(cap: int) -> None:
    async def run() -> None:
        sock = listening_socket("127.0.0.1", 0, 128)
        listener = GreedyListener(sock, Echo, None, max_per_turn=cap)
        listener._loop.remove_reader(sock.fileno())  # drive the turns by hand
        clients = queued_connections(sock.getsockname()[1], 40)
        listener._accept_pending()
        assert listener.accepted == min(40, cap)
        while listener.accepted < 40:
            listener._accept_pending()
        listener._accept_pending()  # an empty queue: nothing, no error
        assert listener.accepted == 40
        listener.close()
        await listener.wait_closed()
        for c in clients:
            c.close()

    uvloop.run(run())


def test_tls_connections_are_served_and_close_stops_accepting(tmp_path: Path) -> None:
    tls = certs.ensure_certs(tmp_path, ["127.0.0.1"])  # the server's own CA and certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(tls.server_cert, tls.server_key)
    client_tls = ssl.create_default_context(cafile=tls.ca_cert)

    async def run() -> None:
        sock = listening_socket("127.0.0.1", 0, 128)
        port = sock.getsockname()[1]
        listener = GreedyListener(sock, Echo, server_tls)

        async def ask(word: bytes) -> bytes:
            r, w = await asyncio.open_connection(
                "127.0.0.1", port, ssl=client_tls, server_hostname="127.0.0.1"
            )
            w.write(word)
            answer = await asyncio.wait_for(r.readexactly(len(word)), 10)
            w.close()
            return answer

        assert await asyncio.gather(*(ask(b"ping%d" % i) for i in range(50))) == [
            b"PING%d" % i for i in range(50)
        ]
        raw = await asyncio.open_connection("127.0.0.1", port)  # no TLS: dropped, the listener goes on
        raw[1].write(b"GET / HTTP/1.1\r\n\r\n")
        assert await asyncio.wait_for(raw[0].read(), 10) == b""
        assert await ask(b"again") == b"AGAIN"
        listener.close()
        await listener.wait_closed()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)

    uvloop.run(run())

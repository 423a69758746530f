"""Which requests the API clients send again when a kept-alive connection dies under them.

A server killed after it applied a write but before it answered leaves the client with a closed
connection and no answer. A read may be asked again; a write may not (a POST with generateName
would create a second object; Go's Transport replays only GET, HEAD, OPTIONS and TRACE, and
client-go retries only GETs). The scripted server here answers the first request on a
connection and hangs up on the second after reading it, as such a server would.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from api.aclient import AsyncClient
from api.client import Client, ConnectionFailed
from api.config import ClientConfig
from api.resources import by_plural

CONFIGMAPS = by_plural("", "configmaps")
anyio = pytest.mark.anyio
BODY = b'{"kind":"ConfigMap","metadata":{"name":"x"}}'


class HangsUpOnSecond:
    """Per connection: answers the first request, reads the second and closes without a word."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.seen: list[str] = []  # "METHOD path" of every request read in full
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as f:
            for n in range(2):
                line = f.readline()
                if not line:
                    return
                length = 0
                while (h := f.readline()) not in (b"\r\n", b""):
                    name, _, value = h.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                f.read(length)
                self.seen.append(" ".join(line.decode().split()[:2]))
                if n == 0:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
                    conn.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server() -> Iterator[HangsUpOnSecond]:
    s = HangsUpOnSecond()
    yield s
    s.close()


def config(server: HangsUpOnSecond) -> ClientConfig:
    return ClientConfig(server=f"http://127.0.0.1:{server.port}", timeout=10)


def test_sync_client_asks_a_read_again_but_never_a_write(server: HangsUpOnSecond) -> None:
    with Client(config(server)) as c:
        c.get(CONFIGMAPS, "x", "default")
        assert c.get(CONFIGMAPS, "x", "default")["metadata"]["name"] == "x"  # hung up on, asked again
        assert [s.split()[0] for s in server.seen] == ["GET", "GET", "GET"]
        with pytest.raises(ConnectionFailed, match="connection closed"):
            c.create(CONFIGMAPS, {"metadata": {"name": "x"}}, "default")  # the second on its connection
    assert [s.split()[0] for s in server.seen] == ["GET", "GET", "GET", "POST"]


@anyio
async def test_async_client_asks_a_read_again_but_never_a_write(server: HangsUpOnSecond) -> None:
    async with AsyncClient(config(server)) as c:
        await c.get(CONFIGMAPS, "x", "default")
        assert (await c.get(CONFIGMAPS, "x", "default"))["metadata"]["name"] == "x"
        assert [s.split()[0] for s in server.seen] == ["GET", "GET", "GET"]
        with pytest.raises(ConnectionError, match="not sent again"):
            await c.create(CONFIGMAPS, {"metadata": {"name": "x"}}, "default")
    assert [s.split()[0] for s in server.seen] == ["GET", "GET", "GET", "POST"]


def test_sync_client_does_not_send_on_a_connection_the_server_closed(server: HangsUpOnSecond) -> None:
    """A kept-alive connection the server closed while it idled is replaced before the write."""
    with Client(config(server)) as c:
        c.get(CONFIGMAPS, "x", "default")
        assert c._sock is not None
        c._sock.shutdown(socket.SHUT_WR)  # the server sees EOF, ends the connection: it idles closed
        wait_closed = c._sock.recv(1, socket.MSG_PEEK)  # blocks until the server's FIN arrives
        assert wait_closed == b""
        c.create(CONFIGMAPS, {"metadata": {"name": "x"}}, "default")  # on a fresh connection
    assert [s.split()[0] for s in server.seen] == ["GET", "POST"]

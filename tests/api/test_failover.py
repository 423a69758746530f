"""Both API clients move to the next server when theirs cannot be reached (real sockets)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from api import requests as rq
from api.aclient import AsyncClient
from api.client import Client, ConnectionFailed
from api.config import ClientConfig
from api.resources import by_plural

_namespaces = by_plural("", "namespaces")
assert _namespaces is not None
NAMESPACES = _namespaces
anyio = pytest.mark.anyio


def dead_url() -> str:
    """A port nothing listens on (bound, then closed: connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


class Named(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = json.dumps({"kind": "Namespace", "served_by": self.server.server_port}).encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def live() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Named)
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


def url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_port}"


def test_sync_client_skips_a_dead_server(live: ThreadingHTTPServer) -> None:
    cfg = ClientConfig(server=dead_url(), fallback_servers=(url(live),), timeout=5)
    with Client(cfg) as c:
        assert c.get(NAMESPACES, "x")["served_by"] == live.server_port
        assert c.server == url(live)


def test_sync_client_with_no_live_server_says_so() -> None:
    first = dead_url()
    with (
        Client(ClientConfig(server=first, fallback_servers=(dead_url(),), timeout=5)) as c,
        pytest.raises(ConnectionFailed, match=first.removeprefix("http://")),
    ):
        c.get(NAMESPACES, "x")


def test_all_servers_order() -> None:
    cfg = ClientConfig(server="https://a:1", fallback_servers=("https://b:1", "https://a:1", "https://c:1"))
    assert cfg.all_servers() == ["https://a:1", "https://b:1", "https://c:1"]


class AsyncNamed:
    """A keep-alive HTTP server on asyncio that can die at once, connections and all (kill -9)."""

    def __init__(self) -> None:
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.writers.add(w)
        try:
            while (line := await r.readline()).strip():
                while (await r.readline()).strip():
                    pass
                body = json.dumps({"served_by": self.port}).encode()
                w.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                await w.drain()
                if b"watch=" in line:  # a watch: one event, then the stream ends
                    break
        except ConnectionError:
            pass
        finally:
            w.close()

    async def kill(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in list(self.writers):
            w.transport.abort()
        await self.server.wait_closed()


@anyio
async def test_async_client_fails_over_when_its_server_dies() -> None:
    one, two = AsyncNamed(), AsyncNamed()
    await one.start()
    await two.start()
    cfg = ClientConfig(
        server=f"http://127.0.0.1:{one.port}", fallback_servers=(f"http://127.0.0.1:{two.port}",)
    )
    async with AsyncClient(cfg) as c:
        got = await asyncio.gather(*(c.get(NAMESPACES, "x") for _ in range(4)))
        assert {g["served_by"] for g in got} == {one.port}  # the first server while it lives
        await one.kill()
        got = await asyncio.gather(*(c.get(NAMESPACES, "x") for _ in range(4)))
        assert {g["served_by"] for g in got} == {two.port}
        assert c.server.endswith(str(two.port))
        # a watch-style stream opens on the surviving server too
        lines = [line async for line in c.stream(rq.watch(NAMESPACES))]
        assert json.loads(lines[0])["served_by"] == two.port
    await two.kill()


@anyio
async def test_async_client_with_no_live_server_raises() -> None:
    cfg = ClientConfig(server=dead_url(), fallback_servers=(dead_url(),))
    async with AsyncClient(cfg) as c:
        with pytest.raises(OSError):
            await c.get(NAMESPACES, "x")


def test_kubeconfig_servers_extension_gives_the_fallbacks() -> None:
    from api.config import SERVERS_EXTENSION, from_merged

    doc: dict[str, Any] = {
        "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "clusters": [
            {
                "name": "k",
                "cluster": {
                    "server": "https://a:1/",
                    "extensions": [
                        {"name": "other", "extension": {"servers": ["https://x:1"]}},
                        {
                            "name": SERVERS_EXTENSION,
                            "extension": {"servers": ["https://a:1", "https://b:1/"]},
                        },
                    ],
                },
            }
        ],
    }
    cfg = from_merged(doc)
    assert cfg.all_servers() == ["https://a:1", "https://b:1"]
    del doc["clusters"][0]["cluster"]["extensions"]
    assert from_merged(doc).all_servers() == ["https://a:1"]

"""What the `proxy` subresources' tests proxy to: a threaded HTTP server and a WebSocket echo server
on a global unicast address of this host (kube refuses to proxy to loopback or link-local
addresses, so 127.0.0.1 will not do; the `proxy_ip` fixture puts one on a bridge of its own,
so nothing is sent beyond this host).

HTTP paths: any path echoes the request as JSON (method, path, query, headers, body or, when long,
its length and sha256); `/page.html` is an HTML page with links (gzip with `?gzip=1`);
`/redirect?to=URL` a 302 there; `/cors` an answer with CORS and hop-by-hop headers; `/stream` a
chunked answer (`?sized=1`: with a Content-Length) whose second half waits for `release` (set by
the test once it read the first);
`/big?n=N` N bytes with a Content-Length. The WebSocket server echoes every message, after a first
one describing the handshake (path, X-Forwarded-For, whether an Authorization header came).
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from apiserver.proxylocation import is_global_unicast
from tests.polling import wait_for

PAGE = """<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head><body>
<a href="/abs/path/">abs</a> <a href='rel/path'>rel</a> <img src="http://{authority}/img.png">
<a href="http://elsewhere.example/x">other</a> <!-- <a href="/in-comment"> -->
<script src="/app.js">var s = '<a href="/in-script">';</script><form action="/submit?a=1&amp;b=2"></form>
</body></html>"""


ADDRESS = "10.253.0.1"  # on a bridge of the test's own (no ports): traffic to it never leaves the host
LINK = "klproxytest0"


def _ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True)


@pytest.fixture(scope="module")
def proxy_ip() -> Iterator[str]:
    """A global unicast address of this host, made for the test (a bridge with no ports), removed after."""
    _ip("link", "del", LINK, check=False)  # left by an interrupted run
    _ip("link", "add", LINK, "type", "bridge")
    try:
        _ip("addr", "add", f"{ADDRESS}/32", "dev", LINK)
        _ip("link", "set", LINK, "up")
        assert is_global_unicast(ADDRESS)
        yield ADDRESS
    finally:
        _ip("link", "del", LINK, check=False)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, code: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        body = self._body()
        path, _, query = self.path.partition("?")
        args = {k: v[0] for k, v in parse_qs(query).items()}
        if path == "/page.html":
            page = PAGE.format(authority=self.server.authority).encode()
            if "gzip" in args:
                self._send(
                    200, gzip.compress(page), {"Content-Type": "text/html", "Content-Encoding": "gzip"}
                )
            else:
                self._send(200, page, {"Content-Type": "text/html; charset=utf-8"})
        elif path == "/redirect":
            self._send(302, b"", {"Location": args["to"]})
        elif path == "/cors":
            headers = {
                "Access-Control-Allow-Origin": "*",
                "X-Kept": "yes",
                "Connection": "X-Hop",
                "X-Hop": "1",
            }
            self._send(200, b"cors", headers)
        elif path == "/big":
            self._send(200, b"x" * int(args["n"]), {"Content-Type": "application/octet-stream"})
        elif path == "/stream":  # chunked, or with `?sized=1` a Content-Length (both parts are 14 bytes)
            sized = "sized" in args
            self.send_response(200)
            self.send_header(*(("Content-Length", "28") if sized else ("Transfer-Encoding", "chunked")))
            self.end_headers()
            self.wfile.write(b"first-part-14\n" if sized else b"e\r\nfirst-part-14\n\r\n")
            self.wfile.flush()
            rest = b"after-release\n" if self.server.release.wait(10) else b"not-released!\n"
            self.wfile.write(rest if sized else b"e\r\n%s\r\n0\r\n\r\n" % rest)
        else:
            echo = {
                "method": self.command,
                "path": path,
                "query": query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("latin-1") if len(body) < 4096 else "",
                "length": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            }
            self._send(200, json.dumps(echo).encode(), {"Content-Type": "application/json"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    authority = ""
    release: threading.Event


@dataclass
class Upstreams:
    ip: str
    port: int  # HTTP
    ws_port: int  # WebSocket echo
    release: threading.Event


async def _ws_echo(ws: Any) -> None:
    req = ws.request
    first = {
        "path": req.path,
        "xff": req.headers.get("X-Forwarded-For"),
        "authorization": "Authorization" in req.headers,
        "custom": req.headers.get("X-Custom"),
    }
    await ws.send(json.dumps(first))
    async for message in ws:
        await ws.send(message)


@contextmanager
def upstreams(ip: str) -> Iterator[Upstreams]:
    """Both servers on `ip` (free ports), stopped after."""
    from websockets.asyncio.server import serve

    http = _Server((ip, 0), _Handler)
    http.release = threading.Event()
    http.authority = f"{ip}:{http.server_address[1]}"
    threading.Thread(target=http.serve_forever, daemon=True).start()
    loop = asyncio.new_event_loop()
    ready: list[int] = []
    stop = asyncio.Event()

    async def run_ws() -> None:
        async with serve(_ws_echo, ip, 0, subprotocols=["echo.v1"]) as server:  # type: ignore[list-item]
            ready.append(next(iter(server.sockets)).getsockname()[1])
            await stop.wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(run_ws()), daemon=True)
    thread.start()
    try:
        wait_for(lambda: ready or not thread.is_alive(), 10, "the WebSocket echo server")
        assert ready, "the WebSocket echo server did not start"
        yield Upstreams(ip, http.server_address[1], ready[0], http.release)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
        http.shutdown()
        http.server_close()

"""kubectl up to 1.30's port-forward and up to 1.29's exec: a plain HTTP/1.1 upgrade to SPDY/3.1,
served as a WebSocket.

kubectl 1.27-1.30 (and 1.31+ with KUBECTL_PORT_FORWARD_WEBSOCKETS=false, or after a failed
WebSocket upgrade) POST `pods/NAME/portforward` with `Connection: Upgrade`, `Upgrade: SPDY/3.1`
and `X-Stream-Protocol-Version: portforward.k8s.io`, expect `101 Switching Protocols` with the
same three headers back, then speak SPDY/3.1 on the raw connection. `pods/NAME/exec` is the same
from kubectl 1.27-1.29 (1.30+ after a failed WebSocket upgrade), offering
`X-Stream-Protocol-Version` v4.channel.k8s.io and older (1.29+: v5 first): the subprotocols become
`SPDY/3.1+v4.channel.k8s.io` etc., of which the kubelet picks the one it speaks
(`kubelet.spdyexec`) and the 101 names it without the prefix. ASGI has no such upgrade, and
uvicorn would answer it as an ordinary request and then drop the bytes that follow. So:

- `http_protocol_class()` is uvicorn's httptools protocol that, for an `Upgrade: SPDY/3.1`
  request, hands the connection to `SpdyUpgrade` the way it hands WebSocket upgrades to its
  WebSocket protocol;
- `SpdyUpgrade` runs the ASGI app with a *websocket* scope whose subprotocol is
  `SPDY/3.1+portforward.k8s.io` — exactly what kubectl 1.31+ asks for — and maps the app's
  messages onto the raw connection: `websocket.accept` writes the 101, each `websocket.send`
  writes its bytes, what the client sends arrives as `websocket.receive` bytes, and a refusal
  (`websocket.http.response.*`) is an ordinary HTTP answer with the Status body.

The rest of the path is the WebSocket one: authentication, the pod lookup, the kubelet proxy,
and the kubelet's SPDY session, which reads the tunnel as one byte stream either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from apiserver.handlers.routing import KUBELET_SUBRESOURCES

log = logging.getLogger("kubelite.apiserver.spdyupgrade")

SPDY = b"spdy/3.1"
TUNNEL_PREFIX = "SPDY/3.1+"
SPDY_SUBRESOURCES = tuple(f"/{s}".encode() for s in KUBELET_SUBRESOURCES if s != "log")


def offered_subprotocols(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """`X-Stream-Protocol-Version` values as the WebSocket subprotocols kubectl 1.31+ would offer."""
    return [
        TUNNEL_PREFIX + v.strip()
        for name, value in headers
        if name.lower() == b"x-stream-protocol-version"
        for v in value.decode("latin-1").split(",")
        if v.strip()
    ]


def switching_protocols(protocol: str) -> bytes:
    stream = protocol.removeprefix(TUNNEL_PREFIX)
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
        b"X-Stream-Protocol-Version: " + stream.encode("latin-1") + b"\r\n\r\n"
    )


def http_head(status: int, headers: list[tuple[bytes, bytes]]) -> bytes:
    phrase = HTTPStatus(status).phrase.encode() if status in HTTPStatus._value2member_map_ else b""
    lines = [
        b"HTTP/1.1 %d %s" % (status, phrase),
        *(name + b": " + value for name, value in headers),
        b"connection: close",
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n"


class SpdyUpgrade(asyncio.Protocol):
    """One upgraded connection: the ASGI app sees a WebSocket, the client a SPDY/3.1 upgrade."""

    def __init__(self, app: Any, scope: dict[str, Any]) -> None:
        self.app = app
        self.scope = scope
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.inbox.put_nowait({"type": "websocket.connect"})
        self.transport: Any = None  # asyncio's or uvloop's (which is no asyncio.Transport subclass)
        self.writable = asyncio.Event()
        self.writable.set()
        self.upgraded = self.closed = False
        self.task: asyncio.Task[None] | None = None

    # --- the raw connection ---
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.task = asyncio.get_running_loop().create_task(self._run())

    def data_received(self, data: bytes) -> None:
        if self.upgraded:
            self.inbox.put_nowait({"type": "websocket.receive", "bytes": data})

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.writable.set()
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": 1006})

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    # --- the ASGI side ---
    async def _run(self) -> None:
        try:
            await self.app(self.scope, self.inbox.get, self._send)
        except Exception:
            log.exception("a stream over a SPDY upgrade failed")
        finally:
            if self.transport is not None and not self.closed:
                self.transport.close()

    async def _send(self, message: dict[str, Any]) -> None:
        transport = self.transport
        if transport is None or self.closed:
            return
        kind = message["type"]
        if kind == "websocket.accept":
            self.upgraded = True
            transport.write(switching_protocols(message.get("subprotocol") or self.scope["subprotocols"][0]))
        elif kind == "websocket.send":
            transport.write(message.get("bytes") or (message.get("text") or "").encode())
            await self.writable.wait()
        elif kind == "websocket.close":
            transport.close()
        elif kind == "websocket.http.response.start":
            transport.write(http_head(message["status"], list(message.get("headers") or [])))
        elif kind == "websocket.http.response.body":
            transport.write(message.get("body") or b"")
            if not message.get("more_body"):
                transport.close()


def http_protocol_class() -> type:
    """uvicorn's httptools protocol, handing `Upgrade: SPDY/3.1` requests to `SpdyUpgrade`."""
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class SpdyAwareHttpToolsProtocol(HttpToolsProtocol):
        def _should_upgrade(self) -> bool:
            return self._spdy_stream() or super()._should_upgrade()

        def _spdy_stream(self) -> bool:
            # port-forward, exec and attach
            return self._get_upgrade() == SPDY and httptools.parse_url(self.url).path.endswith(
                SPDY_SUBRESOURCES
            )

        def handle_websocket_upgrade(self) -> None:
            if not self._spdy_stream():
                super().handle_websocket_upgrade()
                return
            self.connections.discard(self)
            url = httptools.parse_url(self.url)
            scope = {
                **self.scope,
                "type": "websocket",
                "path": self.root_path + _unquote(url.path),
                "raw_path": url.path,
                "query_string": url.query or b"",
                "subprotocols": offered_subprotocols(self.scope["headers"]),
                "state": self.app_state.copy(),
                "extensions": {"websocket.http.response": {}},
            }
            scope.pop("method", None)
            protocol = SpdyUpgrade(self.config.loaded_app, scope)
            with contextlib.suppress(Exception):
                self.transport.set_protocol(protocol)
            protocol.connection_made(self.transport)

    return SpdyAwareHttpToolsProtocol


def _unquote(raw: bytes) -> str:
    from urllib.parse import unquote

    text = raw.decode("ascii")
    return unquote(text) if "%" in text else text


__all__ = ["SpdyUpgrade", "http_protocol_class", "offered_subprotocols", "switching_protocols"]

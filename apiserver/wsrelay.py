"""A client's WebSocket relayed to an upstream one, frame by frame: for pods/exec, attach and
port-forward (to the kubelet) and for WebSockets through the `proxy` subresources.

`open_upstream` dials the upstream WebSocket offering the client's subprotocols verbatim (kube's
names, such as `SPDY/3.1+portforward.k8s.io`, are not RFC 6455 tokens: `api.websocket`), with the
headers given. An upstream that answers the handshake with anything but 101 raises `Refused`
(its status, content type and body, for the caller to relay or translate); one that cannot be
reached raises `Unreachable`. `relay` then accepts the client's WebSocket with the subprotocol the
upstream chose and pumps frames both ways until either side closes.

websockets is imported on first use only.
"""

from __future__ import annotations

import contextlib
import ssl
from typing import Any

from api.asgi import first_of

DIAL_TIMEOUT = 10.0


class Refused(Exception):
    """The upstream answered the handshake without switching protocols."""

    def __init__(self, status: int, content_type: bytes, body: bytes) -> None:
        super().__init__(f"upstream answered {status}")
        self.status = status
        self.content_type = content_type
        self.body = body


class Unreachable(Exception):
    """The upstream could not be dialled, or its handshake failed; `__cause__` says why."""


async def open_upstream(
    url: str,
    context: ssl.SSLContext | None,
    offered: list[str],
    headers: list[tuple[str, str]] | None = None,
    server_hostname: str = "",
) -> Any:
    """A connected `websockets` client connection to `url`; Refused or Unreachable otherwise.
    `server_hostname`: the TLS name to verify when the URL names an address."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidHandshake, InvalidStatus

    from api.websocket import lenient_client_connection

    tls: dict[str, Any] = (
        {"server_hostname": server_hostname} if server_hostname and url.startswith("wss:") else {}
    )
    try:
        return await connect(
            url,
            ssl=context if url.startswith("wss:") else None,
            additional_headers=headers,
            create_connection=lenient_client_connection(offered),
            open_timeout=DIAL_TIMEOUT,
            max_size=None,
            compression=None,
            ping_interval=None,
            user_agent_header=None,  # the client's, among `headers`, if it sent one
            proxy=None,  # cluster addresses: never through a proxy of the environment
            **tls,
        )
    except InvalidStatus as e:
        answer = e.response
        content_type = (answer.headers.get("Content-Type") or "text/plain; charset=utf-8").encode("latin-1")
        raise Refused(answer.status_code, content_type, bytes(answer.body or b"")) from None
    except (OSError, TimeoutError, InvalidHandshake) as e:
        raise Unreachable(str(e) or type(e).__name__) from e


async def relay(upstream: Any, receive: Any, send: Any) -> None:
    """Accept the client's WebSocket (after its connect message) and pump frames until either closes."""
    from websockets.exceptions import ConnectionClosed

    async with upstream:
        msg = await receive()
        if msg["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})

        async def down() -> None:  # upstream -> client
            with contextlib.suppress(ConnectionClosed):
                async for frame in upstream:
                    key = "bytes" if isinstance(frame, bytes) else "text"
                    await send({"type": "websocket.send", key: frame})
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": 1000})

        async def up() -> None:  # client -> upstream
            while True:
                m = await receive()
                if m["type"] == "websocket.disconnect":
                    return
                data = m.get("bytes")
                with contextlib.suppress(ConnectionClosed):
                    await upstream.send(data if data is not None else m.get("text") or "")

        await first_of(down(), up())

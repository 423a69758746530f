"""WebSocket subprotocol names as Kubernetes spells them, which are not RFC 6455 tokens.

kubectl 1.31+ asks for port-forward with `Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io`;
`/` is not a token character, so the `websockets` library (behind uvicorn, and our client to
the kubelet) rejects the header outright: a 400 "invalid Sec-WebSocket-Protocol header" from
the server side, an InvalidHeader on the client side. Go's gorilla/websocket only splits on
commas, and so do these two shims:

- `server_protocol_class()`: uvicorn's websockets protocol whose handshake leaves the header
  alone (uvicorn already splits it on commas into the ASGI scope's `subprotocols`, and writes
  the one the app accepts into the answer).
- `lenient_client_connection(offered)`: a `create_connection` for `websockets.asyncio.client
  .connect` that offers `offered` as they are and accepts whichever one of them the server picked.

Both import uvicorn or websockets when called, never at import time.
"""

from __future__ import annotations

from typing import Any


def _split(values: list[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def server_protocol_class() -> type:
    """uvicorn's WebSocket protocol (websockets sans-I/O) that accepts any subprotocol names."""
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    class KubeWebSocketProtocol(WebSocketsSansIOProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # the handshake would parse the header as RFC 6455 tokens; the app chooses instead
            self.conn.process_subprotocol = lambda headers: None  # type: ignore[method-assign]

    return KubeWebSocketProtocol


def lenient_client_connection(offered: list[str]) -> Any:
    """A ClientConnection factory that offers `offered` verbatim and takes the server's choice among them."""
    from websockets.asyncio.client import ClientConnection
    from websockets.exceptions import InvalidHeader, NegotiationError

    def process_subprotocol(headers: Any) -> str | None:
        chosen = _split(headers.get_all("Sec-WebSocket-Protocol"))
        if not chosen:
            return None
        if len(chosen) > 1:
            raise InvalidHeader("Sec-WebSocket-Protocol", f"multiple values: {', '.join(chosen)}")
        if chosen[0] not in offered:
            raise NegotiationError(f"unsupported subprotocol: {chosen[0]}")
        return chosen[0]

    class KubeClientConnection(ClientConnection):
        def __init__(self, protocol: Any, **kwargs: Any) -> None:
            if offered:
                protocol.available_subprotocols = list(offered)  # sent as they are, comma-joined
            protocol.process_subprotocol = process_subprotocol
            super().__init__(protocol, **kwargs)

    return KubeClientConnection


__all__ = ["lenient_client_connection", "server_protocol_class"]

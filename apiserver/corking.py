"""One write per whole response: the status line and headers go out with the body.

ASGI sends a response as two messages (start, then body) and uvicorn writes each to the
transport as it comes: two TLS records, two `send` calls, and on the client two reads for what
is one answer. On the API server those writes were 9% of the event loop's time under a pod
burst (py-spy: `respond`'s two sends), and most answers are small JSON bodies sent whole.

`with_corked_writes` wraps uvicorn's HTTP protocol so that its transport can be corked, as
TCP_CORK does for a socket: writes between `cork()` and `uncork()` are joined into one. The
app corks at a response start that declares a Content-Length (a body sent whole) and uncorks
after its last body message. Streamed answers (watches, logs, proxied streams) declare none
and are never held: their headers must reach the client before their first event does. A relayed
answer may declare its length and still arrive in pieces (the `proxy` subresources relay the
upstream's Content-Length): its start message carries `STREAMED` and is not held either.
"""

from __future__ import annotations

from typing import Any

TRANSPORT_KEY = "kubelite.transport"  # the scope entry holding the connection's CorkableTransport
STREAMED = "kubelite.streamed"  # a response start's key: its body comes in pieces, never hold it


class CorkableTransport:
    """A transport whose writes can be held and sent as one; everything else is the transport's."""

    __slots__ = ("_held", "_transport")

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self._held: list[bytes] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def write(self, data: bytes) -> None:
        if self._held is None:
            self._transport.write(data)
        else:
            self._held.append(data)

    def cork(self) -> None:
        if self._held is None:
            self._held = []

    def uncork(self) -> None:
        held, self._held = self._held, None
        if held:
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self.uncork()  # what was written before close goes out first, as with a plain transport
        self._transport.close()


def with_corked_writes(protocol_cls: type) -> type:
    """uvicorn's HTTP protocol class with a corkable transport, named in each request's scope."""

    class CorkedWritesProtocol(protocol_cls):
        def connection_made(self, transport: Any) -> None:
            super().connection_made(CorkableTransport(transport))

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.scope[TRANSPORT_KEY] = self.transport

    return CorkedWritesProtocol


def declares_length(headers: Any) -> bool:
    """Whether a response start's headers give a Content-Length (a body sent whole)."""
    return any(name.lower() == b"content-length" for name, _ in headers)

"""One HTTP request relayed upstream and its answer relayed back, streamed both ways: what the
`proxy` subresources (`apiserver.resourceproxy`) and the aggregated APIs
(`apiserver.aggregation.proxy`) share.

The client's body goes upstream as it arrives (httpx reads it from the ASGI `receive`), the
answer comes back chunk by chunk as the upstream sends it, and a client that goes away ends the
exchange at any point (the upstream connection is closed). httpx adds `Accept`,
`Accept-Encoding` and `User-Agent` to every request: they are removed unless the client sent
them (kube-apiserver's proxy adds none). httpx is imported on the first exchange.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from api.asgi import first_of
from apiserver import proxyrewrite
from apiserver.corking import STREAMED

log = logging.getLogger("kubelite.apiserver.httprelay")
_HTTPX_DEFAULTS = ("accept", "accept-encoding", "user-agent")  # httpx adds them; kube sends none


class ClientGone(Exception):
    """The client disconnected while its request body was being relayed."""


@dataclass(frozen=True)
class Exchange:
    """One relayed request: method, upstream URL, the headers sent, the client's own, and request
    extensions for httpx (`sni_hostname`: the TLS name when the URL names an address)."""

    method: str
    url: str
    sent: list[tuple[bytes, bytes]]
    received: list[tuple[bytes, bytes]]
    extensions: dict[str, Any] | None = None


async def relay_exchange(
    client: Any,
    ex: Exchange,
    receive: Any,
    answer: Callable[[Any], Awaitable[None]],
    failed: Callable[[BaseException, bool], Exception],
) -> None:
    """Send the client's request upstream (its body streamed as it arrives), hand the upstream's
    answer to `answer`, and raise `failed(error, timed_out)` when the upstream cannot be reached.
    A client that goes away ends it all."""
    import httpx

    headers = ex.received
    inbound = Inbound(
        receive,
        header_value(headers, b"content-length") not in ("", "0")
        or bool(header_value(headers, b"transfer-encoding")),
    )
    request = client.build_request(
        ex.method, ex.url, headers=ex.sent, content=inbound.body(), extensions=ex.extensions
    )
    for name in _HTTPX_DEFAULTS:  # what httpx adds and the client did not send
        if not header_value(headers, name.encode()) and name in request.headers:
            del request.headers[name]

    async def exchange() -> None:
        try:
            upstream = await client.send(request, stream=True)
        except ClientGone:
            return
        except (httpx.HTTPError, OSError) as e:
            raise failed(e, isinstance(e, httpx.TimeoutException)) from None
        try:
            await answer(upstream)
        finally:
            await upstream.aclose()

    exchanged, _ = await first_of(exchange(), inbound.gone())  # a client that leaves ends it all
    if exchanged.done() and not exchanged.cancelled() and (err := exchanged.exception()) is not None:
        raise err


async def stream_answer(answer: Any, send: Any) -> None:
    """The upstream's answer relayed as it comes: status, headers (no hop-by-hop, no CORS), body."""
    out = proxyrewrite.response_headers(answer.headers.raw)
    await send({"type": "http.response.start", "status": answer.status_code, "headers": out, STREAMED: True})
    await relay_body(answer, send)


def header_value(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    """A request header's values, comma-joined ("" when absent)."""
    return ", ".join(v.decode("latin-1") for k, v in headers if k.lower() == name)


class Inbound:
    """The client's side of an exchange: its body as it arrives (what httpx streams upstream), then
    the wait for the client to go away (which may end the exchange at any time after the body)."""

    def __init__(self, receive: Any, has_body: bool) -> None:
        self.receive = receive
        self.has_body = has_body
        self.body_read = asyncio.Event()
        if not has_body:
            self.body_read.set()

    def body(self) -> Any:
        return self._chunks() if self.has_body else None

    async def _chunks(self) -> Any:
        try:
            while True:
                msg = await self.receive()
                if msg["type"] == "http.disconnect":
                    raise ClientGone()
                if chunk := msg.get("body", b""):
                    yield chunk
                if not msg.get("more_body"):
                    return
        finally:
            self.body_read.set()

    async def gone(self) -> None:
        await self.body_read.wait()
        while (await self.receive())["type"] != "http.disconnect":
            pass


async def relay_body(answer: Any, send: Any) -> None:
    try:
        async for chunk in answer.aiter_raw():
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except Exception as e:  # the upstream went away mid-answer: end what was sent
        log.info("proxied answer ended early: %s", e)
    await send({"type": "http.response.body", "body": b""})

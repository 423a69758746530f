"""The API server's side of port-forward, without a cluster: where a request goes on the kubelet,
the WebSocket shims for kube's subprotocol names, and the SPDY/3.1 upgrade of kubectl <= 1.30
served as a WebSocket — each over a real uvicorn on loopback with a toy ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import uvicorn

from api.websocket import lenient_client_connection, server_protocol_class
from apiserver.kubeletproxy import kubelet_target
from apiserver.spdyupgrade import http_head, http_protocol_class, offered_subprotocols, switching_protocols

TUNNEL = "SPDY/3.1+portforward.k8s.io"
NODE = {
    "metadata": {"name": "n1"},
    "status": {
        "addresses": [{"type": "InternalIP", "address": "10.0.0.5"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
    },
}
POD = {
    "metadata": {"name": "web-1", "namespace": "default"},
    "spec": {"nodeName": "n1", "containers": [{"name": "c"}]},
}


def test_portforward_target_translates_ports() -> None:
    t = kubelet_target(POD, NODE, "portforward", [("ports", "80,8080"), ("ports", "81")])
    assert (t.host, t.port, t.path, t.query) == (
        "10.0.0.5",
        10250,
        "/portForward/default/web-1",
        "port=80&port=8080&port=81",
    )
    assert kubelet_target(POD, NODE, "portforward", []).query == ""  # SPDY: ports come in the streams


def test_spdy_upgrade_wire_text() -> None:
    headers = [(b"X-Stream-Protocol-Version", b"portforward.k8s.io"), (b"upgrade", b"SPDY/3.1")]
    assert offered_subprotocols(headers) == [TUNNEL]
    assert switching_protocols(TUNNEL) == (
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
        b"Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n"
    )
    assert (
        http_head(403, [(b"content-length", b"2")])
        == b"HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\nconnection: close\r\n\r\n"
    )


async def echo_app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    """Accepts the tunnel subprotocol and echoes bytes back; refuses anything else with a Status."""
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    if TUNNEL not in scope["subprotocols"]:
        body = b'{"kind":"Status","code":403}\n'
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.accept", "subprotocol": TUNNEL})
    while (msg := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "bytes": b"echo:" + (msg.get("bytes") or b"")})


@contextlib.asynccontextmanager
async def serving() -> AsyncIterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            echo_app,
            host="127.0.0.1",
            port=port,
            http=http_protocol_class(),
            ws=server_protocol_class(),
            lifespan="off",
            log_level="warning",
        )
    )
    task = asyncio.ensure_future(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def raw_request(port: int, head: bytes, then: bytes = b"") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    answer = await reader.readuntil(b"\r\n\r\n")
    if then:
        writer.write(then)
        answer += await reader.readexactly(len(then) + 5)
    else:
        answer += await reader.read()
    writer.close()
    return answer


def test_websocket_with_a_non_token_subprotocol() -> None:
    async def main() -> None:
        from websockets.asyncio.client import connect

        async with serving() as port:
            ws = await connect(
                f"ws://127.0.0.1:{port}/x",
                create_connection=lenient_client_connection([TUNNEL]),
                open_timeout=5,
            )
            async with ws:
                assert ws.subprotocol == TUNNEL
                await ws.send(b"\x80\x03")
                assert await ws.recv() == b"echo:\x80\x03"

    asyncio.run(main())


def test_spdy_upgrade_is_served_as_a_websocket() -> None:
    async def main() -> None:
        async with serving() as port:
            head = (
                b"POST /api/v1/namespaces/default/pods/p/portforward HTTP/1.1\r\nHost: x\r\n"
                b"Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n"
                b"Content-Length: 0\r\n\r\n"
            )
            answer = await raw_request(port, head, then=b"spdy-bytes")
            assert answer == switching_protocols(TUNNEL) + b"echo:spdy-bytes"
            # a refusal is an ordinary HTTP answer carrying the app's body
            refused = await raw_request(port, head.replace(b"portforward.k8s.io", b"other.k8s.io"))
            assert refused.startswith(b"HTTP/1.1 403 Forbidden\r\n") and refused.endswith(
                b'{"kind":"Status","code":403}\n'
            )

    asyncio.run(main())

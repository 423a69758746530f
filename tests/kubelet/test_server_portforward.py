"""The kubelet server's /portForward route as ASGI, with a runtime double that has one sandbox:
checks before the upgrade (pod, ports, subprotocol), then the v4 channel protocol to a loopback
port (the sandbox is host-network, so the kubelet dials 127.0.0.1 in its own namespace)."""

from __future__ import annotations

import asyncio
from typing import Any

from kubelet.server import PEER_CN, KubeletApp
from runtime.interface import SandboxConfig, SandboxInfo


class OneSandbox:
    """Just enough of the Runtime Protocol for port-forward: list_sandboxes."""

    def __init__(self, host_network: bool = True) -> None:
        cfg = SandboxConfig(
            name="web-1", namespace="default", uid="uid-1", hostname="web-1", host_network=host_network
        )
        self.sandbox = SandboxInfo("sb1", cfg, "", "", "ready", 1.0)

    async def list_sandboxes(self) -> list[SandboxInfo]:
        return [self.sandbox]


def scope(path: str, query: bytes, protocols: list[str]) -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": path,
        "query_string": query,
        "subprotocols": protocols,
        "state": {PEER_CN: "kube-apiserver-kubelet-client"},
        "headers": [],
    }


async def call(app: KubeletApp, sc: dict[str, Any], inbound: list[dict[str, Any]]) -> list[dict[str, Any]]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for m in [{"type": "websocket.connect"}, *inbound]:
        queue.put_nowait(m)
    sent: list[dict[str, Any]] = []

    async def send(m: dict[str, Any]) -> None:
        sent.append(m)

    await asyncio.wait_for(app(sc, queue.get, send), 10)
    return sent


def denied(sent: list[dict[str, Any]]) -> tuple[int, bytes]:
    return sent[0]["status"], sent[1]["body"]


def test_refusals_before_the_upgrade() -> None:
    async def main() -> None:
        app = KubeletApp(OneSandbox())  # type: ignore[arg-type]
        v4 = ["v4.channel.k8s.io"]
        assert denied(await call(app, scope("/portForward/default/nope", b"port=80", v4), [])) == (
            404,
            b'pod "nope" not found',
        )
        assert denied(await call(app, scope("/portForward/default/web-1", b"", v4), [])) == (
            400,
            b'query parameter "port" is required',
        )
        assert denied(await call(app, scope("/portForward/default/web-1", b"port=0", v4), []))[0] == 400
        status, body = denied(await call(app, scope("/portForward/default/web-1", b"port=80", ["x"]), []))
        assert status == 400 and b"SPDY/3.1+portforward.k8s.io" in body
        app = KubeletApp(OneSandbox(host_network=False))  # type: ignore[arg-type]
        assert denied(await call(app, scope("/portForward/default/web-1", b"port=80", v4), []))[0] == 500

    asyncio.run(main())


def test_v4_channels_to_a_loopback_port() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello:" + await reader.readexactly(3))
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        app = KubeletApp(OneSandbox())  # type: ignore[arg-type]
        sent = await call(
            app,
            scope("/portForward/default/web-1/uid-1", f"port={port}".encode(), ["v4.channel.k8s.io"]),
            [{"type": "websocket.receive", "bytes": b"\x00abc"}],
        )
        server.close()
        assert sent[0] == {"type": "websocket.accept", "subprotocol": "v4.channel.k8s.io"}
        frames = [m["bytes"] for m in sent if m["type"] == "websocket.send"]
        head = port.to_bytes(2, "little")
        assert frames[:2] == [b"\x00" + head, b"\x01" + head]
        assert b"".join(f[1:] for f in frames[2:] if f[0] == 0) == b"hello:abc"
        assert sent[-1] == {"type": "websocket.close", "code": 1000}

    asyncio.run(main())

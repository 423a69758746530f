"""Port-forward: bytes between a client and 127.0.0.1:<port> inside a pod's network namespace.

The kubelet serves `/portForward/{ns}/{pod}` (as the real kubelet) over a WebSocket, in one of
two protocols, whichever the client offers:

- `SPDY/3.1+portforward.k8s.io` (kubectl 1.31+, and older ones after the API server turned their
  SPDY upgrade into this tunnel): SPDY/3.1 inside binary messages, `kubelet.spdysession`.
- `v4.channel.k8s.io` (the Python client, and anything speaking kube's channel protocol): one
  connection per port named in the query (`port=80&port=81`); port i has data channel 2i and
  error channel 2i+1, and the first frame on each is the port as 2 bytes little-endian.

A connection into the pod is made from a short-lived thread that enters the netns (setns
changes only the calling thread) and creates the socket there: a socket stays in the namespace
it was made in, so the event loop can use it afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

SPDY_TUNNEL = "SPDY/3.1+portforward.k8s.io"
V4 = "v4.channel.k8s.io"
PROTOCOLS = (SPDY_TUNNEL, V4)  # in order of preference
READ_SIZE = 32 * 1024

Dial = Callable[[int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


class PortForwardError(Exception):
    """A request the kubelet refuses before the upgrade (answered as 400)."""


# --- decisions (pure) ------------------------------------------------------------------
def choose_protocol(offered: list[str]) -> str | None:
    return next((p for p in PROTOCOLS if p in offered), None)


def parse_ports(pairs: list[tuple[str, str]]) -> list[int]:
    """The ports of a query (`port=80&port=81`, also `ports=80,81`), checked as the kubelet does."""
    ports = []
    for key, value in pairs:
        if key not in ("port", "ports"):
            continue
        for item in value.split(","):
            try:
                port = int(item.strip())
            except ValueError:
                raise PortForwardError(f'unable to parse "{item}" as a port: invalid syntax') from None
            if not 0 < port < 65536:
                raise PortForwardError(f'port "{item}" must be > 0 and < 65536')
            ports.append(port)
    return ports


def forward_error(port: int, pod: str, uid: str, why: object) -> str:
    """The kubelet's words for a failed forward (what kubectl shows after "an error occurred forwarding")."""
    if isinstance(why, OSError) and why.strerror:
        why = why.strerror
    return f"error forwarding port {port} to pod {pod}, uid {uid}: {why}"


# --- dialling into the pod ---------------------------------------------------------------
def _socket_in_netns(netns_path: str) -> socket.socket:
    """A TCP socket created inside `netns_path` (from a thread that dies with its setns)."""
    from runtime.network import netns

    return netns.run_in(netns_path, lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))


def dial_error(netns_path: str, port: int, e: OSError) -> OSError:
    """A failed dial worded as the container runtime words it (Go's net.Dial error inside)."""
    why = os.strerror(e.errno).lower() if e.errno else str(e)
    where = f" inside namespace {netns_path}" if netns_path else ""
    return OSError(
        e.errno,
        f"failed to connect to localhost:{port}{where}, IPv4: dial tcp 127.0.0.1:{port}: connect: {why}",
    )


async def dial_pod(netns_path: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to 127.0.0.1:port in the pod's network namespace ("" = the kubelet's own: host network)."""
    try:
        if not netns_path:
            return await asyncio.open_connection("127.0.0.1", port)
        sock = await asyncio.to_thread(_socket_in_netns, netns_path)
        try:
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        except BaseException:
            sock.close()
            raise
        return await asyncio.open_connection(sock=sock)
    except OSError as e:
        raise dial_error(netns_path, port, e) from None


async def close_writer(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


async def splice(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    inbox: asyncio.Queue[bytes | None],
    down: Callable[[bytes], Awaitable[None]],
) -> None:
    """Copy the pod's bytes to the client through `down` until the pod closes its side, while a
    task copies the client's (`inbox`, None at its end) to the pod: the client's end half-closes
    the pod socket, as kube's forwarder does. Both protocols (WebSocket channels, SPDY streams)."""

    async def up() -> None:
        while (chunk := await inbox.get()) is not None:
            writer.write(chunk)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()

    pump = asyncio.ensure_future(up())
    try:
        while data := await reader.read(READ_SIZE):
            await down(data)
    finally:
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)


# --- v4.channel.k8s.io ---------------------------------------------------------------------
async def serve_channels(
    receive: Receive, send: Send, ports: list[int], dial: Dial, pod: str, uid: str
) -> None:
    """One connection per port over an accepted WebSocket, until every pod side has closed."""

    async def ws_send(channel: int, data: bytes) -> None:
        await send({"type": "websocket.send", "bytes": bytes((channel,)) + data})

    for i, port in enumerate(ports):
        head = port.to_bytes(2, "little")
        await ws_send(2 * i, head)
        await ws_send(2 * i + 1, head)
    inboxes: list[asyncio.Queue[bytes | None]] = [asyncio.Queue() for _ in ports]

    async def one(i: int, port: int) -> None:
        try:
            reader, writer = await dial(port)
        except OSError as e:
            await ws_send(2 * i + 1, forward_error(port, pod, uid, e).encode())
            return
        try:
            await splice(reader, writer, inboxes[i], lambda data: ws_send(2 * i, data))
        finally:
            await close_writer(writer)

    async def inbound() -> None:
        while True:
            msg = await receive()
            if msg["type"] == "websocket.disconnect":
                for q in inboxes:
                    q.put_nowait(None)
                return
            frame = msg.get("bytes") or b""
            if len(frame) > 1 and frame[0] % 2 == 0 and frame[0] // 2 < len(ports):
                inboxes[frame[0] // 2].put_nowait(frame[1:])

    reading = asyncio.ensure_future(inbound())
    try:
        await asyncio.gather(*(one(i, p) for i, p in enumerate(ports)))
        with contextlib.suppress(Exception):
            await send({"type": "websocket.close", "code": 1000})
    finally:
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)


__all__ = [
    "PROTOCOLS",
    "SPDY_TUNNEL",
    "V4",
    "Dial",
    "PortForwardError",
    "choose_protocol",
    "dial_pod",
    "forward_error",
    "parse_ports",
    "serve_channels",
]

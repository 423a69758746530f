"""Port-forward: bytes between a client and 127.0.0.1:<port> inside a pod's network namespace.

The kubelet serves `/portForward/{ns}/{pod}` (as the real kubelet) over a WebSocket, in one of
two protocols, whichever the client offers:

- `SPDY/3.1+portforward.k8s.io` (kubectl 1.31+, and older ones after the API server turned their
  SPDY upgrade into this tunnel): SPDY/3.1 (`kubelet.spdy`) inside binary messages. Per local
  connection the client opens an error stream, then a data stream, both with headers
  `streamtype`, `port` and `requestid`; each gets a SYN_REPLY; once both of a request are there
  the pod's port is dialled and bytes flow on the data stream (FIN half-closes either way).
  A failure is written as text on the error stream; the error stream is then closed (FIN),
  which is what kubectl waits for before it forgets the connection.
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

from kubelet import spdy

log = logging.getLogger(__name__)

SPDY_TUNNEL = "SPDY/3.1+portforward.k8s.io"
V4 = "v4.channel.k8s.io"
PROTOCOLS = (SPDY_TUNNEL, V4)  # in order of preference
CLONE_NEWNET = 0x40000000
READ_SIZE = 32 * 1024
OUTBOX_HIGH = 64  # frames queued for the client before the pod's side waits (64 x 32 KiB at most)

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
    box: dict[str, Any] = {}

    def make() -> None:
        try:
            import ctypes

            fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns({netns_path}): {os.strerror(err)}")
            finally:
                os.close(fd)
            box["sock"] = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except BaseException as e:
            box["error"] = e

    import threading

    t = threading.Thread(target=make, name="kubelet-portforward-netns")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    sock: socket.socket = box["sock"]
    return sock


def dial_error(netns_path: str, port: int, e: OSError) -> OSError:
    """A failed dial worded as the container runtime words it (Go's net.Dial error inside)."""
    why = os.strerror(e.errno).lower() if e.errno else str(e)
    where = f" inside namespace {netns_path}" if netns_path else ""
    return OSError(e.errno, f"failed to connect to localhost:{port}{where}, IPv4: dial tcp 127.0.0.1:{port}: "
                            f"connect: {why}")


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


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


# --- v4.channel.k8s.io ---------------------------------------------------------------------
async def serve_channels(receive: Receive, send: Send, ports: list[int], dial: Dial, pod: str, uid: str) -> None:
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

        async def up() -> None:  # client -> pod
            while (chunk := await inboxes[i].get()) is not None:
                writer.write(chunk)
                await writer.drain()
            with contextlib.suppress(OSError):
                writer.write_eof()

        pump = asyncio.ensure_future(up())
        try:
            while data := await reader.read(READ_SIZE):
                await ws_send(2 * i, data)
        finally:
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)
            await _close(writer)

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


# --- SPDY/3.1 over the WebSocket ------------------------------------------------------------
class SpdySession:
    """The server side of kubectl's port-forward SPDY connection, bytes in and bytes out."""

    def __init__(self, write: Callable[[bytes], None], dial: Dial, pod: str, uid: str,
                 room: Callable[[], Awaitable[None]] | None = None) -> None:
        self.write = write  # queues bytes for the peer, in order
        self.room = room  # waits while too much is queued: a pod faster than the client waits for it
        self.dial = dial
        self.pod, self.uid = pod, uid
        self.framer = spdy.Framer()
        self.inbox: dict[int, asyncio.Queue[bytes | None]] = {}  # data stream id -> client bytes
        self.pending: dict[str, dict[str, spdy.Frame]] = {}  # requestid -> streamtype -> SYN_STREAM
        self.tasks: set[asyncio.Task[None]] = set()

    def received(self, data: bytes) -> None:
        """Handle what the peer sent; SpdyError when it is not SPDY/3.1."""
        for frame in self.framer.feed(data):
            if frame.kind == spdy.SYN_STREAM:
                self._opened(frame)
            elif frame.kind == spdy.DATA:
                inbox = self.inbox.get(frame.stream_id)
                if inbox is not None:
                    if frame.data:
                        inbox.put_nowait(frame.data)
                    if frame.fin:
                        inbox.put_nowait(None)
            elif frame.kind == spdy.RST_STREAM:
                inbox = self.inbox.pop(frame.stream_id, None)
                if inbox is not None:
                    inbox.put_nowait(None)
            elif frame.kind == spdy.PING and frame.value % 2 == 1:  # client pings are odd: echo them
                self.write(spdy.ping(frame.value))

    def _opened(self, frame: spdy.Frame) -> None:
        kind, request = frame.header("streamtype"), frame.header("requestid")
        if kind not in ("data", "error"):
            self.write(spdy.rst_stream(frame.stream_id, spdy.RST_PROTOCOL_ERROR))
            return
        self.write(self.framer.syn_reply(frame.stream_id))
        if kind == "data":
            self.inbox[frame.stream_id] = asyncio.Queue()
        pair = self.pending.setdefault(request, {})
        pair[kind] = frame
        if len(pair) == 2:
            del self.pending[request]
            task = asyncio.ensure_future(self._forward(pair["data"], pair["error"]))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _forward(self, data: spdy.Frame, error: spdy.Frame) -> None:
        port_text = data.header("port")
        try:
            port = int(port_text)
            reader, writer = await self.dial(port)
        except (ValueError, OSError) as e:
            why = e if not isinstance(e, ValueError) else f'invalid port "{port_text}"'
            self._send(error.stream_id, forward_error(int(port_text or 0) if port_text.isdigit() else 0,
                                                      self.pod, self.uid, why).encode(), fin=True)
            self.inbox.pop(data.stream_id, None)
            self._send(data.stream_id, b"", fin=True)
            return
        inbox = self.inbox[data.stream_id]

        async def up() -> None:  # client -> pod; FIN from the client half-closes the pod socket
            while (chunk := await inbox.get()) is not None:
                writer.write(chunk)
                await writer.drain()
            with contextlib.suppress(OSError):
                writer.write_eof()

        pump = asyncio.ensure_future(up())
        try:
            while chunk := await reader.read(READ_SIZE):
                self._send(data.stream_id, chunk)
                if self.room is not None:
                    await self.room()
        except OSError as e:
            self._send(error.stream_id, forward_error(port, self.pod, self.uid, e).encode())
        finally:
            self._send(data.stream_id, b"", fin=True)
            self._send(error.stream_id, b"", fin=True)
            self.inbox.pop(data.stream_id, None)
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)
            await _close(writer)

    def _send(self, stream_id: int, data: bytes, fin: bool = False) -> None:
        for frame in spdy.data_frames(stream_id, data, fin):
            self.write(frame)

    async def close(self) -> None:
        for q in self.inbox.values():
            q.put_nowait(None)
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def serve_spdy_tunnel(receive: Receive, send: Send, dial: Dial, pod: str, uid: str) -> None:
    """SPDY inside an accepted WebSocket (binary messages, one byte stream) until either side goes."""
    out: asyncio.Queue[bytes | None] = asyncio.Queue()
    room = asyncio.Event()
    room.set()

    def write(data: bytes | None) -> None:
        out.put_nowait(data)
        if out.qsize() >= OUTBOX_HIGH:
            room.clear()

    async def wait_room() -> None:
        await room.wait()

    session = SpdySession(write, dial, pod, uid, wait_room)

    async def writer() -> None:
        while (data := await out.get()) is not None:
            await send({"type": "websocket.send", "bytes": data})
            if out.qsize() < OUTBOX_HIGH // 2:
                room.set()
        room.set()

    writing = asyncio.ensure_future(writer())
    try:
        while True:
            msg = await receive()
            if msg["type"] == "websocket.disconnect":
                break
            try:
                session.received(msg.get("bytes") or b"")
            except spdy.SpdyError as e:
                log.info("port-forward to %s: dropping the connection: %s", pod, e)
                write(spdy.goaway(0, 1))
                break
    finally:
        await session.close()
        write(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writing, 5)
        writing.cancel()
        with contextlib.suppress(Exception):
            await send({"type": "websocket.close", "code": 1000})


__all__ = ["PROTOCOLS", "SPDY_TUNNEL", "V4", "PortForwardError", "SpdySession", "choose_protocol", "dial_pod",
           "parse_ports", "serve_channels", "serve_spdy_tunnel"]

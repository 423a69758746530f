"""kubectl's port-forward session: SPDY/3.1 streams to ports of a pod (the `SPDY/3.1+portforward.k8s.io` tunnel).

Per local connection kubectl (spdystream underneath) opens an error stream, then a data stream,
both with headers `streamtype`, `port` and `requestid`; each gets a SYN_REPLY; once both of a
request are there the pod's port is dialled (`kubelet.portforward.dial_pod`) and bytes flow on
the data stream, FIN half-closing either way. A failure is written as text on the error stream;
the error stream is then closed (FIN), which is what kubectl waits for before it forgets the
connection. Client PINGs are echoed; a stream of an unknown type is reset. The frames are
`kubelet.spdy`'s; `serve_spdy` carries them in an accepted ASGI WebSocket, for this session
(`serve_spdy_tunnel`) and for exec's (`kubelet.spdyexec`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from api.asgi import first_of
from kubelet import spdy
from kubelet.portforward import Dial, Receive, Send, close_writer, forward_error, splice

log = logging.getLogger(__name__)

OUTBOX_HIGH = 64  # frames queued for the client before the pod's side waits (64 x 32 KiB at most)


class SpdySession:
    """The server side of kubectl's port-forward SPDY connection, bytes in and bytes out."""

    def __init__(
        self,
        write: Callable[[bytes], None],
        dial: Dial,
        pod: str,
        uid: str,
        room: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
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
            self._send(
                error.stream_id,
                forward_error(
                    int(port_text or 0) if port_text.isdigit() else 0, self.pod, self.uid, why
                ).encode(),
                fin=True,
            )
            self.inbox.pop(data.stream_id, None)
            self._send(data.stream_id, b"", fin=True)
            return
        inbox = self.inbox[data.stream_id]

        async def down(chunk: bytes) -> None:
            self._send(data.stream_id, chunk)
            if self.room is not None:
                await self.room()

        try:
            await splice(reader, writer, inbox, down)  # a FIN from the client half-closes the pod socket
        except OSError as e:
            self._send(error.stream_id, forward_error(port, self.pod, self.uid, e).encode())
        finally:
            self._send(data.stream_id, b"", fin=True)
            self._send(error.stream_id, b"", fin=True)
            self.inbox.pop(data.stream_id, None)
            await close_writer(writer)

    def _send(self, stream_id: int, data: bytes, fin: bool = False) -> None:
        for frame in spdy.data_frames(stream_id, data, fin):
            self.write(frame)

    async def run(self) -> None:
        """Port-forward lasts until the client leaves (each forward ends on its own)."""
        await asyncio.Event().wait()

    async def close(self) -> None:
        for q in self.inbox.values():
            q.put_nowait(None)
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class SpdyServer(Protocol):
    """A server side of a SPDY connection: `received` bytes, `run` until it has nothing left to
    say (port-forward: until the client leaves), `close` when the connection goes."""

    def received(self, data: bytes) -> None: ...

    async def run(self) -> None: ...

    async def close(self) -> None: ...


MakeServer = Callable[[Callable[[bytes], None], Callable[[], Awaitable[None]]], SpdyServer]


async def serve_spdy_tunnel(receive: Receive, send: Send, dial: Dial, pod: str, uid: str) -> None:
    """Port-forward: SPDY inside an accepted WebSocket until either side goes."""
    await serve_spdy(receive, send, lambda write, room: SpdySession(write, dial, pod, uid, room), pod)


async def serve_spdy(receive: Receive, send: Send, make: MakeServer, what: str) -> None:
    """SPDY inside an accepted WebSocket (binary messages, one byte stream) until the client goes
    or the server's `run` ends; what was written is flushed before the close."""
    out: asyncio.Queue[bytes | None] = asyncio.Queue()
    room = asyncio.Event()
    room.set()

    def write(data: bytes | None) -> None:
        out.put_nowait(data)
        if out.qsize() >= OUTBOX_HIGH:
            room.clear()

    async def wait_room() -> None:
        await room.wait()

    session = make(write, wait_room)

    async def writer() -> None:
        while (data := await out.get()) is not None:
            await send({"type": "websocket.send", "bytes": data})
            if out.qsize() < OUTBOX_HIGH // 2:
                room.set()
        room.set()

    async def reader() -> None:
        while True:
            msg = await receive()
            if msg["type"] == "websocket.disconnect":
                return
            try:
                session.received(msg.get("bytes") or b"")
            except spdy.SpdyError as e:
                log.info("SPDY for %s: dropping the connection: %s", what, e)
                write(spdy.goaway(0, 1))
                return

    writing = asyncio.ensure_future(writer())
    try:
        await first_of(reader(), session.run())
    finally:
        await session.close()
        write(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writing, 5)
        writing.cancel()
        with contextlib.suppress(Exception):
            await send({"type": "websocket.close", "code": 1000})


__all__ = ["SpdyServer", "SpdySession", "serve_spdy", "serve_spdy_tunnel"]

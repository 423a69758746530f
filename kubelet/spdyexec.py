"""Exec over SPDY/3.1: kube's remotecommand v4 on streams the client opens (kubectl 1.27-1.29, and
1.30+ after a failed WebSocket upgrade).

The API server turns kubectl's `Upgrade: SPDY/3.1` into a WebSocket to the kubelet whose
subprotocol is `SPDY/3.1+v4.channel.k8s.io` (`apiserver.spdyupgrade`), so the SPDY bytes arrive
here as one byte stream. kubectl opens one stream per purpose, each a SYN_STREAM with header
`streamtype`: `error` first, then `stdin`, `stdout`, `stderr` (not with a tty) and `resize`
(with a tty) as the query asked, waiting for each SYN_REPLY before the next. Once all the
expected streams are there the command starts (a client that never opens them all is dropped
after STREAM_CREATION_TIMEOUT, as the kubelet's stream creation timeout does). stdin's FIN closes
the command's stdin; the resize stream carries `{"Width":W,"Height":H}` JSON objects back to back.
The command's output goes out on stdout/stderr; at its exit both get FIN and the error stream
gets the v4 status — the same `metav1.Status` the WebSocket path sends on channel 3 (Success, or
NonZeroExitCode with cause ExitCode, which kubectl exits with) — and FIN, which is what kubectl
reads to the end before it returns. Older protocols (v1-v3: plain-text errors) are not spoken:
every kubectl since 1.27 offers v4.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable

from kubelet import exec as kexec
from kubelet import spdy
from runtime.interface import ExecSession

log = logging.getLogger(__name__)

SPDY_V4 = "SPDY/3.1+v4.channel.k8s.io"
PROTOCOLS = (SPDY_V4,)
STREAM_CREATION_TIMEOUT = 30.0
ERROR, STDIN, STDOUT, STDERR, RESIZE = "error", "stdin", "stdout", "stderr", "resize"

Start = Callable[[], Awaitable[ExecSession]]


# --- decisions (pure) ------------------------------------------------------------------
def expected_streams(opts: kexec.ExecOptions) -> frozenset[str]:
    """The streams kubectl opens for these options (`parse_exec_query` already drops stderr for a tty)."""
    wanted = {ERROR}
    for name, on in ((STDIN, opts.stdin), (STDOUT, opts.stdout), (STDERR, opts.stderr), (RESIZE, opts.tty)):
        if on:
            wanted.add(name)
    return frozenset(wanted)


def status_body(status: dict[str, object]) -> bytes:
    """The error stream's content: the Status as JSON, newline-ended as Go's json.Encoder writes it."""
    return json.dumps(status, separators=(",", ":")).encode() + b"\n"


def split_sizes(buffer: bytes) -> tuple[list[tuple[int, int]], bytes]:
    """The terminal sizes in the resize stream's bytes so far, and the unfinished rest."""
    decoder, text, pos = json.JSONDecoder(), buffer.decode("utf-8", "replace"), 0
    sizes: list[tuple[int, int]] = []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        try:
            _, end = decoder.raw_decode(text, pos)
        except ValueError:
            return sizes, text[pos:].encode()
        size = kexec.parse_resize(text[pos:end].encode())
        if size is not None:
            sizes.append(size)
        pos = end


# --- the session ---------------------------------------------------------------------------
class SpdyExecSession:
    """The server side of one SPDY exec connection: frames in through `received`, out through `write`."""

    def __init__(
        self,
        write: Callable[[bytes], None],
        opts: kexec.ExecOptions,
        start: Start,
        room: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.write = write
        self.opts = opts
        self.start = start  # starts the command, once every expected stream is open
        self.room = room
        self.framer = spdy.Framer()
        self.expected = expected_streams(opts)
        self.streams: dict[str, int] = {}  # stream type -> stream id
        self.all_open = asyncio.Event()
        # stdin chunks, terminal sizes and stdin's end (None), in the order they came: one queue,
        # so a resize sent before a command line is in effect when the command runs
        self.inbound: asyncio.Queue[bytes | tuple[int, int] | None] = asyncio.Queue()
        self._resize_buffer = b""
        self.stdin_closed = False

    def received(self, data: bytes) -> None:
        """Handle what the client sent; SpdyError when it is not SPDY/3.1."""
        for frame in self.framer.feed(data):
            if frame.kind == spdy.SYN_STREAM:
                self._opened(frame)
            elif frame.kind == spdy.DATA:
                self._data(frame.stream_id, frame.data, frame.fin)
            elif frame.kind == spdy.RST_STREAM:
                self._data(frame.stream_id, b"", True)
            elif frame.kind == spdy.PING and frame.value % 2 == 1:  # client pings are odd: echo them
                self.write(spdy.ping(frame.value))

    def _opened(self, frame: spdy.Frame) -> None:
        kind = frame.header("streamtype")
        if kind not in self.expected or kind in self.streams:
            self.write(spdy.rst_stream(frame.stream_id, spdy.RST_PROTOCOL_ERROR))
            return
        self.write(self.framer.syn_reply(frame.stream_id))
        self.streams[kind] = frame.stream_id
        if set(self.streams) == self.expected:
            self.all_open.set()

    def _data(self, stream_id: int, data: bytes, fin: bool) -> None:
        if stream_id == self.streams.get(STDIN):
            if data:
                self.inbound.put_nowait(data)
            if fin:
                self.inbound.put_nowait(None)
        elif stream_id == self.streams.get(RESIZE) and data:
            sizes, self._resize_buffer = split_sizes(self._resize_buffer + data)
            for size in sizes:
                self.inbound.put_nowait(size)

    def _send(self, kind: str, data: bytes, fin: bool = False) -> None:
        stream_id = self.streams.get(kind)
        if stream_id is not None:
            for frame in spdy.data_frames(stream_id, data, fin):
                self.write(frame)

    def _finish(self, status: dict[str, object]) -> None:
        for kind in (STDOUT, STDERR):
            self._send(kind, b"", fin=True)
        self._send(ERROR, status_body(status), fin=True)

    async def run(self) -> None:
        """Wait for the streams, run the command, report its end; returns when there is nothing left to say."""
        try:
            await asyncio.wait_for(self.all_open.wait(), STREAM_CREATION_TIMEOUT)
        except TimeoutError:
            log.info(
                "exec %s: the client opened only %s of its streams", self.opts.command, sorted(self.streams)
            )
            return
        try:
            session = await self.start()
        except Exception as e:
            self._finish(kexec.error_status(str(e)))
            return
        pump = asyncio.ensure_future(self._pump_input(session))
        try:
            await self._pump_output(session)
            code = await session.wait()
            self._finish(kexec.exit_status(code, self.opts.command))
        except Exception as e:  # the runtime failed mid-session: say so on the error stream
            log.warning("exec %s failed: %s", self.opts.command, e)
            self._finish(kexec.error_status(str(e)))
        finally:
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)
            if self.opts.stdin and not self.stdin_closed:  # the client left with stdin open
                with contextlib.suppress(Exception):
                    await session.close_stdin()

    async def _pump_input(self, session: ExecSession) -> None:
        while True:
            item = await self.inbound.get()
            if isinstance(item, tuple):
                await session.resize(*item)
            elif item is not None and self.opts.stdin and not self.stdin_closed:
                await session.write_stdin(item)
            elif item is None and self.opts.stdin and not self.stdin_closed:
                self.stdin_closed = True
                await session.close_stdin()

    async def _pump_output(self, session: ExecSession) -> None:
        async for stream, data in session.output():
            if stream == kexec.STDERR and STDERR in self.streams:
                self._send(STDERR, data)
            elif (stream == kexec.STDOUT or self.opts.tty) and STDOUT in self.streams:
                self._send(STDOUT, data)  # a terminal has one output stream: stderr goes to it too
            else:
                continue
            if self.room is not None:
                await self.room()

    async def close(self) -> None:
        """Nothing of its own to let go: `run`, cancelled, closes the command's stdin."""


__all__ = ["PROTOCOLS", "SPDY_V4", "SpdyExecSession", "expected_streams", "split_sizes", "status_body"]

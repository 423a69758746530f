"""A running container's own stdio, through conmon's attach socket, as an `ExecSession`.

conmon keeps, for each container it monitors, a SEQPACKET socket in the bundle: every packet it
sends is one byte naming the stream (STDOUT_FRAME, STDERR_FRAME) and the bytes; what is written
to it goes to the container's stdin when the container was started with stdin open (`-i`), and
shutting down the write side closes that stdin. A terminal's size goes through the bundle's
`ctl` fifo. This is what CRI's Attach gives kube's kubelet; `kubectl attach` and `kubectl run
-i` ride on it. The session ends when conmon hangs up (the container exited) or the caller stops
reading; like CRI's Attach it reports no exit code (`wait` gives 0): kubectl reads the pod's
status for that.
"""

from __future__ import annotations

import _socket
import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable

from runtime.containers.terminal import STDERR_FRAME


class AttachSession:
    def __init__(self, sock: _socket.socket, resize: Callable[[int, int], None]) -> None:
        self.sock = socket.socket(fileno=sock.detach())  # the event loop's sock_* want a socket.socket
        self.sock.setblocking(False)
        self._resize = resize
        self._ended = asyncio.Event()

    async def write_stdin(self, data: bytes) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def close_stdin(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)

    async def output(self) -> AsyncIterator[tuple[int, bytes]]:
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    frame = await loop.sock_recv(self.sock, 65536)
                except OSError:
                    return
                if not frame:
                    return
                if len(frame) > 1:
                    yield (2 if frame[0] == STDERR_FRAME else 1), frame[1:]
        finally:
            self._ended.set()
            self.sock.close()

    async def resize(self, cols: int, rows: int) -> None:
        await asyncio.to_thread(self._resize, cols, rows)

    async def wait(self) -> int:
        await self._ended.wait()
        return 0

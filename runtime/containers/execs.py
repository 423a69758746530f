"""Interactive exec sessions (the `ExecSession` Protocol) over an attached `runc exec`.

Without a TTY: pipes, stdout and stderr kept apart. With a TTY: a pty pair of ours whose slave is
runc's stdio; runc allocates the container-side pty and proxies it (raw mode, and SIGWINCH makes
it copy our window size across), so resize = set the size on our master + SIGWINCH to runc.
Exit code = runc's exit code, which is the exec'd process's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tty as termmode
from collections.abc import AsyncIterator

from runtime.containers import proc
from runtime.containers.terminal import set_window_size


class RuncExecSession:
    def __init__(self, process: asyncio.subprocess.Process, master: int | None) -> None:
        self.process = process
        self.master = master
        self._resized = False  # a resize before runc watches SIGWINCH is lost: repeat it on first output

    @classmethod
    async def start(cls, argv: list[str], tty: bool = False, stdin: bool = False) -> RuncExecSession:
        proc.log_command(argv)
        if tty:
            master, slave = os.openpty()
            set_window_size(master, 80, 24)
            termmode.setraw(
                slave
            )  # runc does this too, but only once it runs: keep early input from being echoed
            try:
                process = await asyncio.create_subprocess_exec(
                    *argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
                )
            finally:
                os.close(slave)
            os.set_blocking(master, False)
            return cls(process, master)
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process, None)

    async def write_stdin(self, data: bytes) -> None:
        if self.master is not None:
            loop = asyncio.get_running_loop()
            while data:
                try:
                    n = os.write(self.master, data)
                    data = data[n:]
                except BlockingIOError:
                    fut: asyncio.Future[None] = loop.create_future()
                    loop.add_writer(self.master, _resolve, fut)
                    try:
                        await fut
                    finally:
                        loop.remove_writer(self.master)
        elif self.process.stdin is not None:
            self.process.stdin.write(data)
            await self.process.stdin.drain()

    async def close_stdin(self) -> None:
        if self.master is not None:
            await self.write_stdin(b"\x04")
        elif self.process.stdin is not None:
            self.process.stdin.close()

    async def output(self) -> AsyncIterator[tuple[int, bytes]]:
        queue: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        if self.master is not None:
            master = self.master

            def on_read() -> None:
                try:
                    data = os.read(master, 65536)
                except BlockingIOError:
                    return
                except OSError:
                    data = b""  # EIO: every slave fd is closed
                if data:
                    if self._resized:
                        self._resized = False
                        with contextlib.suppress(ProcessLookupError):
                            self.process.send_signal(signal.SIGWINCH)
                    queue.put_nowait((1, data))
                else:
                    loop.remove_reader(master)
                    queue.put_nowait(None)

            loop.add_reader(master, on_read)
            pending = 1
        else:

            async def pipe(stream: asyncio.StreamReader | None, n: int) -> None:
                while stream is not None and (chunk := await stream.read(65536)):
                    queue.put_nowait((n, chunk))
                queue.put_nowait(None)

            tasks = [
                asyncio.create_task(pipe(self.process.stdout, 1)),
                asyncio.create_task(pipe(self.process.stderr, 2)),
            ]
            pending = len(tasks)
        while pending:
            item = await queue.get()
            if item is None:
                pending -= 1
            else:
                yield item

    async def resize(self, cols: int, rows: int) -> None:
        if self.master is not None:
            set_window_size(self.master, cols, rows)
            self._resized = True
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGWINCH)

    async def wait(self) -> int:
        code = await self.process.wait()
        if self.master is not None:
            with contextlib.suppress(OSError, ValueError):
                asyncio.get_running_loop().remove_reader(self.master)
            with contextlib.suppress(OSError):
                os.close(self.master)
            self.master = None
        return code


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)

"""Terminal plumbing for `run -it` / `exec -it`: raw mode, window size, stdio pumps, console sockets.

Two sources of a container's terminal: conmon's attach socket (framed SEQPACKET, for the
container's own process) and a pty pair whose slave is an attached `runc exec -t`'s stdio.
The attach pump is a plain select loop on file descriptors: no threads, no asyncio on the CLI path.
"""

from __future__ import annotations

import _socket  # not `socket` (start-up cost): the attach socket is a plain one
import contextlib
import os
import select
import struct
from collections.abc import Iterator

STDOUT_FRAME, STDERR_FRAME = 2, 3


@contextlib.contextmanager
def raw_mode(fd: int) -> Iterator[None]:
    """Put a terminal in raw mode for the duration (a no-op when fd is not a terminal)."""
    if not os.isatty(fd):
        yield
        return
    import termios  # the terminal modules only on a terminal's path (start-up cost of `run`)
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def window_size(fd: int) -> tuple[int, int] | None:
    """(cols, rows) of a terminal, or None."""
    import fcntl
    import termios

    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except OSError:
        return None
    return (cols, rows) if cols and rows else None


def set_window_size(fd: int, cols: int, rows: int) -> None:
    import fcntl
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _write_all(fd: int, data: bytes) -> None:
    while data:
        n = os.write(fd, data)
        data = data[n:]


def pump_attach(sock: _socket.socket, stdin_fd: int | None, out_fd: int = 1, err_fd: int = 2) -> None:
    """Copy conmon attach frames to stdout/stderr and stdin to the socket, until conmon hangs up."""
    watch: list[int] = [sock.fileno()] + ([stdin_fd] if stdin_fd is not None else [])
    while True:
        ready, _, _ = select.select(watch, [], [])
        if sock.fileno() in ready:
            frame = sock.recv(65536)
            if not frame:
                return
            _write_all(err_fd if frame[0] == STDERR_FRAME else out_fd, frame[1:])
        if stdin_fd is not None and stdin_fd in ready:
            data = os.read(stdin_fd, 65536)
            if data:
                sock.sendall(data)
            else:
                with contextlib.suppress(OSError):
                    sock.shutdown(_socket.SHUT_WR)  # conmon closes the container's stdin
                watch.remove(stdin_fd)
                stdin_fd = None

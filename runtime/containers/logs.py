"""CRI-format container logs (what conmon's k8s-file driver writes): parse, tail, follow.

A line is `<RFC3339Nano time> <stdout|stderr> <F|P> <text>`; P marks a partial line whose text
continues on the next record. Following never polls: inotify says when the file grew, and a
pidfd on conmon says when no more can come.
"""

from __future__ import annotations

import ctypes
import os
import select
from collections.abc import Callable, Iterator
from dataclasses import dataclass

IN_MODIFY = 0x2
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000


@dataclass
class LogLine:
    time: str
    stream: str  # stdout | stderr
    text: bytes  # with its newline when the record was a full line


def parse_line(raw: bytes) -> LogLine | None:
    parts = raw.rstrip(b"\n").split(b" ", 3)
    if len(parts) < 3:
        return None
    text = parts[3] if len(parts) == 4 else b""
    return LogLine(parts[0].decode(), parts[1].decode(), text + (b"\n" if parts[2] == b"F" else b""))


def read_lines(path: str, tail: int | None = None) -> tuple[list[LogLine], int]:
    """All (or the last `tail` full) lines, and the offset to follow from."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return [], 0
    end = data.rfind(b"\n") + 1
    lines = [ln for ln in (parse_line(r) for r in data[:end].splitlines()) if ln is not None]
    if tail is not None:
        lines = lines[-tail:] if tail > 0 else []
    return lines, end


def _inotify(path: str) -> int:
    libc = ctypes.CDLL(None, use_errno=True)  # libc is already loaded; find_library would run ldconfig
    fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
    if fd < 0 or libc.inotify_add_watch(fd, path.encode(), IN_MODIFY) < 0:
        raise OSError(ctypes.get_errno(), f"inotify on {path}")
    return int(fd)


def follow(path: str, offset: int, conmon_pid: Callable[[], int]) -> Iterator[LogLine]:
    """Lines written after `offset`, until conmon (the only writer) has exited."""
    if not os.path.exists(path):
        open(path, "ab").close()
    ino = _inotify(path)
    pid = conmon_pid()
    pidfd = -1
    if pid:
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            pidfd = -1
    buf = b""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            while True:
                chunk = f.read()
                if chunk:
                    buf += chunk
                    *full, buf = buf.split(b"\n")
                    for raw in full:
                        line = parse_line(raw)
                        if line is not None:
                            yield line
                    continue
                if pidfd < 0:
                    return
                ready, _, _ = select.select([ino, pidfd], [], [])
                if ino in ready:
                    try:
                        os.read(ino, 65536)
                    except BlockingIOError:
                        pass
                if pidfd in ready:
                    os.close(pidfd)
                    pidfd = -1  # one last read above, then stop
    finally:
        os.close(ino)
        if pidfd >= 0:
            os.close(pidfd)

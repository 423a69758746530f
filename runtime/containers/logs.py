"""CRI-format container logs (what conmon's k8s-file driver writes): parse, tail, follow.

The one reader of this format, shared by the runtime's docker-style `logs` command and the
kubelet's log server (`kubelet.server`, whose request options live in `kubelet.logs`).

conmon writes one record per line: `TIMESTAMP STREAM TAG TEXT`, e.g.
`2026-11-29T07:47:42.775766070+00:00 stdout F hello`, where TAG is `F` (the record ends a line)
or `P` (a partial record: a long line split by conmon, continued by the next record of the same
stream). What a reader sees is the logical lines: partial records joined, their first timestamp
kept. Decisions (parse, join, tail) are pure functions over bytes; the I/O is `read_tail` (seek
from the end, so the last 10 lines of a huge log read a few blocks), `read_from` /
`read_lines_block`, and `follow_lines`, an async generator woken by inotify when the file grows
(conmon only appends) that asks whether the writer still runs only when the file is idle, so a
server can cancel it when its client goes away. `read_lines` / `follow` are the CLI's
synchronous view of the same.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import select
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator

from runtime.datarecord import record

IN_MODIFY = 0x2
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
FOLLOW_POLL = 0.1  # seconds between reads of a followed log when inotify is unavailable
FOLLOW_EXIT_CHECK = 0.5  # seconds between "is the writer still running?" checks of an idle log
_BLOCK = 64 * 1024


@record(frozen=True)
class Record:
    timestamp: bytes  # as conmon wrote it
    stream: bytes  # b"stdout" | b"stderr"
    partial: bool
    text: bytes  # without the newline


def parse_record(line: bytes) -> Record | None:
    """One raw log line (no trailing newline) -> Record; None for a line that is not CRI format."""
    parts = line.split(b" ", 3)
    if len(parts) < 3 or parts[1] not in (b"stdout", b"stderr"):
        return None
    if len(parts) == 3:  # an empty line: "TS stdout F" (some writers drop the trailing space)
        parts.append(b"")
    ts, stream, tag, text = parts
    if tag not in (b"F", b"P") and not tag.startswith(b"F:") and not tag.startswith(b"P:"):
        return None
    return Record(ts, stream, tag[:1] == b"P", text)


def parse_time_ns(ts: bytes) -> int | None:
    """RFC 3339 with up to nanoseconds (`...T07:47:42.775766070+00:00` or `...Z`) -> ns since the epoch."""
    try:
        s = ts.decode("ascii")
        date_time, frac, offset = s[:19], "", "+00:00"
        rest = s[19:]
        if rest.startswith("."):
            end = 1
            while end < len(rest) and rest[end].isdigit():
                end += 1
            frac, rest = rest[1:end], rest[end:]
        if rest and rest not in ("Z", "z"):
            offset = rest
        base = dt.datetime.fromisoformat(date_time + offset)
        return int(base.timestamp()) * 1_000_000_000 + int((frac + "000000000")[:9])
    except (ValueError, UnicodeDecodeError):
        return None


def format_time(ts: bytes) -> bytes:
    """conmon's timestamp as the kubelet prints it (RFC3339Nano in UTC: `Z`, trailing zeros dropped)."""
    ns = parse_time_ns(ts)
    if ns is None:
        return ts
    secs, nanos = divmod(ns, 1_000_000_000)
    base = dt.datetime.fromtimestamp(secs, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{nanos:09d}".rstrip("0")
    return (base + ("." + frac if frac else "") + "Z").encode()


@record
class Line:
    """One logical line of a container's output."""

    timestamp: bytes
    stream: bytes
    text: bytes  # the whole logical line, without the newline
    complete: bool = True  # False: the log ends inside this line (printed without a newline, as kube does)


class LineJoiner:
    """Joins partial records into logical lines, per stream; keeps state across follow reads."""

    def __init__(self) -> None:
        self._pending: dict[bytes, tuple[bytes, list[bytes]]] = {}

    def feed(self, rec: Record) -> Line | None:
        pending = self._pending.get(rec.stream)
        if rec.partial:
            if pending is None:
                self._pending[rec.stream] = (rec.timestamp, [rec.text])
            else:
                pending[1].append(rec.text)
            return None
        if pending is None:
            return Line(rec.timestamp, rec.stream, rec.text)
        del self._pending[rec.stream]
        return Line(pending[0], rec.stream, b"".join([*pending[1], rec.text]))

    def flush(self) -> list[Line]:
        """Partial lines still open when the log ends (the container died mid-line)."""
        out = [Line(ts, stream, b"".join(parts), False) for stream, (ts, parts) in self._pending.items()]
        self._pending.clear()
        return out


def logical_lines(raw_lines: Iterable[bytes], joiner: LineJoiner | None = None) -> Iterator[Line]:
    joiner = joiner or LineJoiner()
    for raw in raw_lines:
        rec = parse_record(raw)
        if rec is not None:
            line = joiner.feed(rec)
            if line is not None:
                yield line


def tail_start(data: bytes, n: int, at_file_start: bool) -> int | None:
    """Offset in `data` (the end of a log) where its last `n` logical lines begin, or None when more of
    the file is needed. Lines are counted by their final (`F`) records so partial records never split
    a logical line; a line the log ends inside (trailing `P` records) counts too."""
    lines = data.split(b"\n")
    offsets, pos = [], 0
    for ln in lines:
        offsets.append(pos)
        pos += len(ln) + 1
    first = 0 if at_file_start else 1  # data[0] may be the cut-off end of an earlier line
    records = [(i, r) for i in range(first, len(lines)) if (r := parse_record(lines[i])) is not None]
    full_ends = [i for i, r in records if not r.partial]
    last_of_stream = {r.stream: (i, r) for i, r in records}
    # a stream whose log ends inside a line: that line counts as one more
    full_ends = sorted(full_ends + [i for i, r in last_of_stream.values() if r.partial])
    if len(full_ends) > n:
        return offsets[full_ends[len(full_ends) - n - 1] + 1]
    return offsets[first] if at_file_start else None


def read_tail(path: str, n: int) -> tuple[bytes, int]:
    """The raw bytes holding the last `n` logical lines of a log, and the file offset where they end."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        start, data = size, b""
        while True:
            start = max(0, start - _BLOCK * (1 + len(data) // _BLOCK))
            f.seek(start)
            data = f.read(size - start)
            off = tail_start(data, n, start == 0)
            if off is not None:
                return data[off:], size


def read_from(path: str, offset: int, max_bytes: int = -1) -> tuple[bytes, int]:
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(max_bytes)
    return data, offset + len(data)


def read_lines_block(path: str, offset: int, max_bytes: int = 4 * _BLOCK) -> tuple[bytes, int]:
    """Up to `max_bytes` of whole raw lines from `offset` (an unfinished last line is left for the next
    read), and the offset after them; (b"", offset) at the end of what is written."""
    data, end = read_from(path, offset, max_bytes)
    cut = data.rfind(b"\n") + 1
    if cut == 0 and len(data) < max_bytes:
        return b"", offset  # only an unfinished line so far
    if cut == 0:
        return data, end  # a line longer than a block (conmon splits long lines, so not from it)
    return data[:cut], offset + cut


def inotify_watch(path: str) -> int:
    """A non-blocking inotify fd that becomes readable when `path` is written to."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)  # libc is already loaded; find_library would run ldconfig
    fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
    if fd < 0 or libc.inotify_add_watch(fd, path.encode(), IN_MODIFY) < 0:
        err = ctypes.get_errno()
        if fd >= 0:
            os.close(fd)
        raise OSError(err, f"inotify on {path}")
    return int(fd)


class _Changes:
    """Wakes a follower when the file grows: inotify on the event loop, or, where that is
    unavailable, nothing but the caller's timeout."""

    def __init__(self, path: str) -> None:
        import asyncio

        self.event = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        self.fd = -1
        try:
            self.fd = inotify_watch(path)
            self.loop.add_reader(self.fd, self._ready)
        except (OSError, NotImplementedError):
            if self.fd >= 0:
                os.close(self.fd)
            self.fd = -1

    @property
    def watching(self) -> bool:
        return self.fd >= 0

    def _ready(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.read(self.fd, 65536)
        self.event.set()

    async def wait(self, timeout: float) -> None:
        import asyncio

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout)

    def close(self) -> None:
        if self.fd >= 0:
            self.loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = -1


async def follow_lines(
    path: str,
    offset: int,
    running: Callable[[], Awaitable[bool]],
    joiner: LineJoiner,
    exit_check: float = FOLLOW_EXIT_CHECK,
) -> AsyncGenerator[Line, None]:
    """Logical lines appended to `path` after `offset`, as they come, until `running()` says the
    writer stopped (then what is left is drained) or the caller stops iterating. New data wakes
    the follower through inotify; `running()` is asked only when the file is idle, every
    `exit_check` seconds (FOLLOW_POLL without inotify)."""
    import asyncio  # here: the CLI's `logs` without --follow does without its import time

    changes = _Changes(path)
    idle_wait = exit_check if changes.watching else min(exit_check, FOLLOW_POLL)
    carry = b""

    def lines_of(data: bytes, final: bool) -> list[Line]:
        nonlocal carry
        chunk = carry + data
        cut = len(chunk) if final else chunk.rfind(b"\n") + 1
        carry = chunk[cut:]
        return list(logical_lines(chunk[:cut].split(b"\n"), joiner))

    try:
        while True:
            changes.event.clear()  # before reading: a write after this read still wakes the wait below
            data, offset = await asyncio.to_thread(read_from, path, offset)
            if data:
                for line in lines_of(data, False):
                    yield line
                continue
            if not await running():
                data, offset = await asyncio.to_thread(
                    read_from, path, offset
                )  # written just before the exit
                for line in [*lines_of(data, True), *joiner.flush()]:
                    yield line
                return
            await changes.wait(idle_wait)
    finally:
        changes.close()


# --- the CLI's synchronous view ---------------------------------------------------------------


@record
class LogLine:
    """A logical line as `kubelite runtime logs` prints it."""

    time: str
    stream: str  # stdout | stderr
    text: bytes  # with its newline when the line is complete

    @classmethod
    def of(cls, line: Line) -> LogLine:
        return cls(
            line.timestamp.decode(), line.stream.decode(), line.text + (b"\n" if line.complete else b"")
        )


def read_lines(path: str, tail: int | None = None) -> tuple[list[LogLine], int]:
    """All (or the last `tail`) logical lines written so far, and the offset to follow from."""
    try:
        data, end = read_tail(path, tail) if tail is not None else read_from(path, 0)
    except FileNotFoundError:
        return [], 0
    cut = data.rfind(b"\n") + 1  # an unfinished last line is for the follower
    return [LogLine.of(ln) for ln in logical_lines(data[:cut].split(b"\n"))], end - (len(data) - cut)


def follow(path: str, offset: int, conmon_pid: Callable[[], int]) -> Iterator[LogLine]:
    """Lines written after `offset`, until conmon (the only writer) has exited: `follow_lines` run
    on a private event loop, with a pidfd on conmon as the liveness check."""
    if not os.path.exists(path):
        open(path, "ab").close()
    pid = conmon_pid()
    pidfd = -1
    if pid:
        with contextlib.suppress(ProcessLookupError):
            pidfd = os.pidfd_open(pid)

    async def running() -> bool:
        return pidfd >= 0 and not select.select([pidfd], [], [], 0)[0]

    import asyncio

    loop = asyncio.new_event_loop()
    lines = follow_lines(path, offset, running, LineJoiner())  # its body runs on `loop`
    try:
        while True:
            try:
                line = loop.run_until_complete(anext(lines))
            except StopAsyncIteration:
                return
            yield LogLine.of(line)
    finally:
        loop.run_until_complete(lines.aclose())
        loop.close()
        if pidfd >= 0:
            os.close(pidfd)

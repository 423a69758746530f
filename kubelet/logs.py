"""Reading CRI-format container logs the way the kubelet serves them: tail, since, timestamps, follow.

conmon writes one record per line: `TIMESTAMP STREAM TAG TEXT`, e.g.
`2026-11-29T07:47:42.775766070+00:00 stdout F hello`, where TAG is `F` (the record ends a
line) or `P` (a partial record: a long line split by conmon, continued by the next record of
the same stream). What a client sees is the logical lines: partial records joined, their
first timestamp kept. Decisions (parse, join, filter, tail) are pure functions over lines; the
only I/O is `read_tail` (seek from the end, so `tailLines=10` of a huge log reads a few blocks)
and `follow`, an async generator woken by inotify when the file grows (conmon only appends)
until the container stops running.

`runtime.containers.logs` (the `kubelite runtime logs` CLI's reader) parses the same format, but
its follower blocks a thread in select() until conmon exits, which a server cannot cancel when
its client goes away; this module is the kubelet's async, cancellable reader and borrows only
that module's inotify helper.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass

FOLLOW_POLL = 0.1  # seconds between reads of a followed log when inotify is unavailable
FOLLOW_EXIT_CHECK = 0.5  # seconds between "is the container still running?" checks of an idle log
_BLOCK = 64 * 1024


@dataclass(frozen=True)
class LogOptions:
    """The query of `GET /containerLogs/...` (the API server forwards pods/log's unchanged)."""

    follow: bool = False
    tail_lines: int | None = None  # None: all lines
    timestamps: bool = False
    previous: bool = False
    since_ns: int | None = None  # keep lines at or after this time (ns since the epoch)
    limit_bytes: int | None = None
    stream: str = "All"  # All | Stdout | Stderr


class LogOptionError(ValueError):
    """A query parameter of a log request is malformed (answered as 400)."""


def _int_param(query: dict[str, str], name: str, minimum: int) -> int | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise LogOptionError(f"{name}: invalid value {raw!r}: must be an integer") from None
    if value < minimum:
        raise LogOptionError(f"{name}: invalid value {value}: must be greater than or equal to {minimum}")
    return value


def _bool_param(query: dict[str, str], name: str) -> bool:
    return query.get(name, "").lower() in ("true", "1")


def parse_options(query: dict[str, str], now_ns: int) -> LogOptions:
    """LogOptions from a pods/log or containerLogs query (kube's names); LogOptionError when malformed."""
    since_ns = None
    since_s = _int_param(query, "sinceSeconds", 1)
    if since_s is not None:
        since_ns = now_ns - since_s * 1_000_000_000
    elif query.get("sinceTime"):
        since_ns = parse_time_ns(query["sinceTime"].encode())
        if since_ns is None:
            raise LogOptionError(f"sinceTime: invalid value {query['sinceTime']!r}: must be an RFC 3339 time")
    stream = query.get("stream") or "All"
    if stream not in ("All", "Stdout", "Stderr"):
        raise LogOptionError(f"stream: unsupported value {stream!r}: must be All, Stdout or Stderr")
    return LogOptions(follow=_bool_param(query, "follow"), tail_lines=_int_param(query, "tailLines", 0),
                      timestamps=_bool_param(query, "timestamps"), previous=_bool_param(query, "previous"),
                      since_ns=since_ns, limit_bytes=_int_param(query, "limitBytes", 1), stream=stream)


@dataclass(frozen=True)
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


@dataclass
class LogLine:
    timestamp: bytes
    stream: bytes
    text: bytes  # the whole logical line, without the newline
    complete: bool = True  # False: the log ends inside this line (printed without a newline, as kube does)


class LineJoiner:
    """Joins partial records into logical lines, per stream; keeps state across follow reads."""

    def __init__(self) -> None:
        self._pending: dict[bytes, tuple[bytes, list[bytes]]] = {}

    def feed(self, rec: Record) -> LogLine | None:
        pending = self._pending.get(rec.stream)
        if rec.partial:
            if pending is None:
                self._pending[rec.stream] = (rec.timestamp, [rec.text])
            else:
                pending[1].append(rec.text)
            return None
        if pending is None:
            return LogLine(rec.timestamp, rec.stream, rec.text)
        del self._pending[rec.stream]
        return LogLine(pending[0], rec.stream, b"".join([*pending[1], rec.text]))

    def flush(self) -> list[LogLine]:
        """Partial lines still open when the log ends (the container died mid-line)."""
        out = [LogLine(ts, stream, b"".join(parts), False) for stream, (ts, parts) in self._pending.items()]
        self._pending.clear()
        return out


def logical_lines(raw_lines: Iterable[bytes], joiner: LineJoiner | None = None) -> Iterator[LogLine]:
    joiner = joiner or LineJoiner()
    for raw in raw_lines:
        rec = parse_record(raw)
        if rec is not None:
            line = joiner.feed(rec)
            if line is not None:
                yield line


def selected(line: LogLine, opts: LogOptions) -> bool:
    if opts.stream != "All" and line.stream != opts.stream.lower().encode():
        return False
    if opts.since_ns is not None:
        ns = parse_time_ns(line.timestamp)
        if ns is not None and ns < opts.since_ns:
            return False
    return True


def render(line: LogLine, timestamps: bool) -> bytes:
    end = b"\n" if line.complete else b""
    if timestamps:
        return format_time(line.timestamp) + b" " + line.text + end
    return line.text + end


def render_all(lines: Iterable[LogLine], opts: LogOptions) -> bytes:
    """The whole (non-follow) answer: filter, tail, render, cut at limitBytes."""
    out = b"".join(render(ln, opts.timestamps) for ln in tail_lines(lines, opts))
    return out[:opts.limit_bytes] if opts.limit_bytes is not None else out


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


def tail_lines(lines: Iterable[LogLine], opts: LogOptions) -> list[LogLine]:
    """The lines a request selects, the last `tailLines` of them when asked."""
    chosen = [ln for ln in lines if selected(ln, opts)]
    if opts.tail_lines is not None:
        chosen = chosen[len(chosen) - opts.tail_lines:] if opts.tail_lines else []
    return chosen


class _Changes:
    """Wakes a follower when the file grows: inotify on the event loop (the runtime's inotify helper),
    or, where that is unavailable, nothing but the caller's timeout."""

    def __init__(self, path: str) -> None:
        self.event = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        self.fd = -1
        try:
            from runtime.containers.logs import _inotify

            self.fd = _inotify(path)
            self.loop.add_reader(self.fd, self._ready)
        except (ImportError, OSError, NotImplementedError):
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
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout)

    def close(self) -> None:
        if self.fd >= 0:
            self.loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = -1


async def follow(path: str, offset: int, running: Callable[[], Awaitable[bool]],
                 joiner: LineJoiner, exit_check: float = FOLLOW_EXIT_CHECK) -> AsyncIterator[LogLine]:
    """Logical lines appended to `path` after `offset`, as they come, until `running()` says the
    container stopped (then what is left is drained) or the caller stops iterating. New data wakes
    the follower through inotify; `running()` is asked only when the file is idle, every
    `exit_check` seconds (FOLLOW_POLL without inotify)."""
    changes = _Changes(path)
    idle_wait = exit_check if changes.watching else min(exit_check, FOLLOW_POLL)
    carry = b""

    def lines_of(data: bytes, final: bool) -> list[LogLine]:
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
                data, offset = await asyncio.to_thread(read_from, path, offset)  # written just before the exit
                for line in [*lines_of(data, True), *joiner.flush()]:
                    yield line
                return
            await changes.wait(idle_wait)
    finally:
        changes.close()

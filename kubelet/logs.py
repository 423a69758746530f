"""The options of a kubelet log request (`GET /containerLogs/...`, forwarded unchanged from the API
server's pods/log) and what they select and how the selected lines are printed.

Reading the CRI-format file itself (parse, join partial records, tail, follow) is
`runtime.containers.logs`, shared with the runtime's `logs` command; this module holds only
what is particular to Kubernetes' query: `sinceSeconds`/`sinceTime`, `stream`, `tailLines`,
`timestamps` (RFC3339Nano in UTC), `limitBytes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from runtime.containers.logs import Line, format_time, parse_time_ns


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
    return LogOptions(
        follow=_bool_param(query, "follow"),
        tail_lines=_int_param(query, "tailLines", 0),
        timestamps=_bool_param(query, "timestamps"),
        previous=_bool_param(query, "previous"),
        since_ns=since_ns,
        limit_bytes=_int_param(query, "limitBytes", 1),
        stream=stream,
    )


def selected(line: Line, opts: LogOptions) -> bool:
    if opts.stream != "All" and line.stream != opts.stream.lower().encode():
        return False
    if opts.since_ns is not None:
        ns = parse_time_ns(line.timestamp)
        if ns is not None and ns < opts.since_ns:
            return False
    return True


def render(line: Line, timestamps: bool) -> bytes:
    end = b"\n" if line.complete else b""
    if timestamps:
        return format_time(line.timestamp) + b" " + line.text + end
    return line.text + end


def tail_lines(lines: Iterable[Line], opts: LogOptions) -> list[Line]:
    """The lines a request selects, the last `tailLines` of them when asked."""
    chosen = [ln for ln in lines if selected(ln, opts)]
    if opts.tail_lines is not None:
        chosen = chosen[len(chosen) - opts.tail_lines :] if opts.tail_lines else []
    return chosen


def render_all(lines: Iterable[Line], opts: LogOptions) -> bytes:
    """The whole (non-follow) answer: filter, tail, render, cut at limitBytes."""
    out = b"".join(render(ln, opts.timestamps) for ln in tail_lines(lines, opts))
    return out[: opts.limit_bytes] if opts.limit_bytes is not None else out

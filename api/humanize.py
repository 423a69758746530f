"""Times and labels as kubectl and the server's Table printers show them to people.

The API server fills `Table` cells (ages, `Restarts (5m ago)`, labels) and kubectl prints the
same cells itself when a server answers a plain list, so both must agree to the letter:
apimachinery's `HumanDuration` (`45s`, `5m3s`, `3h20m`, `2d3h`, `2y30d`), `translateTimestampSince`
(`<unknown>` for a missing or unreadable time) and `labels.FormatLabels`.
"""

from __future__ import annotations

import datetime as _dt

from api.jsonutil import parse_time


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        return f"{years}y{days % 365}d" if days % 365 else f"{years}y"
    return f"{years}y"


def age(timestamp: str | None, now: _dt.datetime | None = None) -> str:
    """How long ago an RFC 3339 `timestamp` was, as `human_duration`; `<unknown>` when missing or bad."""
    if not timestamp:
        return "<unknown>"
    try:
        then = parse_time(timestamp)
    except ValueError:
        return "<unknown>"
    return human_duration(((now or _dt.datetime.now(_dt.UTC)) - then).total_seconds())


def format_labels(labels: dict[str, str] | None) -> str:
    """labels.FormatLabels: sorted `k=v` joined by commas, `<none>` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def go_duration(seconds: float) -> str:
    """A duration to the millisecond, printed as Go's time.Duration prints it (`1.5s`, `12ms`,
    `1m0s`): the kubelet's pull events, `kubectl drain`'s timeouts, the metrics API's windows."""
    ms = round(max(seconds, 0.0) * 1000)  # to the millisecond, float noise aside (15.012 is 15012)
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    minutes, ms = divmod(ms, 60_000)
    hours, minutes = divmod(minutes, 60)
    secs = f"{ms // 1000}.{ms % 1000:03d}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{secs}"
    return f"{minutes}m{secs}" if minutes else secs

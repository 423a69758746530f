"""JSON and timestamp helpers shared by every component.

orjson is the one JSON codec: it keeps dict order and strings byte-for-byte (annotations such
as `last-applied-configuration` must come back exactly as sent) and is ~10x the stdlib.
Timestamps are RFC 3339 in UTC with a `Z`, second precision as Kubernetes emits them
(`metav1.Time`); `parse_time` accepts `+00:00` offsets and fractions on input.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    return orjson.loads(data)


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def dumps_pretty(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2)


def now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def format_time(t: _dt.datetime) -> str:
    """RFC 3339, UTC, whole seconds, `Z` (metav1.Time)."""
    return t.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(t: _dt.datetime) -> str:
    """RFC 3339 with microseconds (metav1.MicroTime, used by Lease renewTime and events)."""
    return t.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_str() -> str:
    return format_time(now())


def parse_time(s: str) -> _dt.datetime:
    """Parse RFC 3339 (`Z` or an offset, with or without fractions) into an aware datetime."""
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    t = _dt.datetime.fromisoformat(s)
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)
    return t

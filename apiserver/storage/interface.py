"""The `Store` seam: what the API server needs from storage, and nothing more (kine's shape).

One revision counter for the whole store. Every write appends an event to a history log in the
same transaction as the current-state row, and that revision *is* the object's
`metadata.resourceVersion` — the store writes it into the object it serializes, so a stored
value is served byte-for-byte with no decode/encode per row (LIST splices stored bytes).

Values go in as dicts (the store sets `metadata.resourceVersion` and serializes once, in
the commit path) and come out as bytes. Watchers get `Event`s strictly in revision order, each
exactly once; `Event.obj` parses the bytes lazily and once, however many watchers filter on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from api import jsonutil


class StorageError(Exception):
    """Base of the store's own errors; the API layer maps them to Status codes."""


class KeyExistsError(StorageError):
    """create() of a key that exists (-> 409 AlreadyExists)."""


class KeyNotFoundError(StorageError):
    """update()/delete() of a key that does not exist (-> 404)."""


class ConflictError(StorageError):
    """The key's current revision is not the expected one (-> 409 Conflict)."""

    def __init__(self, current_revision: int, current_value: bytes | None) -> None:
        super().__init__(f"revision is now {current_revision}")
        self.current_revision = current_revision
        self.current_value = current_value


class CompactedError(StorageError):
    """The revision asked for is older than the compacted history (-> 410 Expired)."""

    def __init__(self, requested: int, compacted: int) -> None:
        super().__init__(f"too old resource version: {requested} ({compacted})")
        self.requested = requested
        self.compacted = compacted


class WatcherDroppedError(StorageError):
    """A watcher fell too far behind and was cut off (-> 410 Expired ERROR event)."""


def serialise(obj: dict[str, Any], resource_version: str, keep: bool) -> bytes:
    """`obj`'s JSON with metadata.resourceVersion = `resource_version`, which stays in the caller's
    dict after success when `keep`, and is never left behind otherwise; a value that is not a JSON
    object, or not serialisable, is a StorageError."""
    if not isinstance(obj, dict):
        raise StorageError(f"value must be a JSON object, got {type(obj).__name__}")
    md = obj.get("metadata")
    if md is None:
        md = obj["metadata"] = {}
    elif not isinstance(md, dict):
        raise StorageError("metadata must be a JSON object")
    had, old = "resourceVersion" in md, md.get("resourceVersion")
    md["resourceVersion"] = resource_version
    done = False
    try:
        raw = jsonutil.dumps(obj)
        done = True
        return raw
    except TypeError as e:
        raise StorageError(f"value is not serialisable as JSON: {e}") from e
    finally:
        if not (done and keep):
            if had:
                md["resourceVersion"] = old
            else:
                del md["resourceVersion"]


@dataclass(frozen=True)
class KeyValue:
    key: str
    revision: int  # mod revision == the object's resourceVersion
    value: bytes

    @cached_property
    def obj(self) -> dict[str, Any]:
        return jsonutil.loads(self.value)


@dataclass(frozen=True)
class Event:
    type: str  # "ADDED" | "MODIFIED" | "DELETED"
    key: str
    revision: int
    value: bytes  # the new object; for DELETED the last state with resourceVersion = this revision
    prev_value: bytes | None = field(default=None, compare=False)

    @cached_property
    def obj(self) -> dict[str, Any]:
        return jsonutil.loads(self.value)

    @cached_property
    def prev_obj(self) -> dict[str, Any] | None:
        return jsonutil.loads(self.prev_value) if self.prev_value is not None else None


KeyValues = list[KeyValue]


class Watcher(Protocol):
    """Async-iterable of events after a revision; close() to stop. Raises WatcherDroppedError
    from iteration when it was cut off for being slow."""

    def __aiter__(self) -> AsyncIterator[Event]: ...

    def caught_up(self) -> int:
        """The store revision this watcher has seen everything up to when nothing is pending, else 0."""

    def take_ready(self, limit: int) -> list[Event]:
        """Up to `limit` events already buffered, without waiting (possibly none)."""

    async def close(self) -> None: ...

    def close_nowait(self) -> None:
        """Stop now, from outside the iteration: a waiting iteration ends (StopAsyncIteration)."""


class Store(Protocol):
    async def start(self) -> None:
        """Open connections, create tables, load the revision, start the commit and compaction tasks."""

    async def close(self) -> None: ...

    async def current_revision(self) -> int: ...

    async def compacted_revision(self) -> int: ...

    async def get(self, key: str) -> KeyValue | None: ...

    async def list(self, prefix: str) -> tuple[int, list[KeyValue]]:
        """Every current key under `prefix`, ordered by key, and the store revision they reflect."""

    async def list_page(
        self, prefix: str, limit: int, start_key: str = "", revision: int = 0
    ) -> tuple[int, KeyValues, int]:
        """One page of a list: up to `limit` keys under `prefix` from `start_key` (inclusive) as
        they were at `revision` (0: now); returns (that revision, the keys, how many more keys
        follow). Every page of one list reads the same revision: CompactedError once it is gone."""

    async def count(self, prefix: str) -> int: ...

    async def create(self, key: str, obj: dict[str, Any]) -> KeyValue:
        """Store a new key; set obj.metadata.resourceVersion to the new revision. KeyExistsError."""

    async def update(self, key: str, obj: dict[str, Any], expected_revision: int) -> KeyValue:
        """Compare-and-swap on the key's mod revision. KeyNotFoundError, ConflictError."""

    async def delete(self, key: str, expected_revision: int | None = None) -> KeyValue:
        """Remove the key; returns the last state with resourceVersion = the delete revision."""

    async def watch(
        self,
        prefix: str,
        after_revision: int,
        trigger: tuple[Callable[[dict[str, Any]], str], str] | None = None,
    ) -> Watcher:
        """Events on keys under `prefix` with revision > after_revision. CompactedError if too old.
        With `trigger` (index function, value), events whose object maps to another value now and
        before may be left out (an optimisation: the caller still filters what it gets)."""

    async def compact(self, keep_seconds: float) -> int:
        """Drop history older than keep_seconds (never the newest revision); returns the compacted revision."""

"""The pure decision of a group commit: given queued writes and the keys' current rows, what to write.

`plan_batch` walks the requests in arrival order over an overlay of the current rows, so two
writes to one key in the same batch see each other. A request whose precondition fails (key
exists, key missing, revision conflict, value not serialisable) gets its error and consumes no
revision; the others go on. Revisions are handed out consecutively from `next_revision`, and
each object is serialised exactly once, after its resourceVersion is set.

No I/O here: the commit thread (commit.py) reads the rows, calls this, writes the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api import jsonutil
from apiserver.storage.interface import (
    ConflictError,
    Event,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    StorageError,
    serialise,
)
from apiserver.storage.sql import CurrentRow

CREATE, UPDATE, DELETE = "create", "update", "delete"


@dataclass
class WriteRequest:
    op: str  # CREATE | UPDATE | DELETE
    key: str
    obj: dict[str, Any] | None = None
    expected_revision: int | None = None


Outcome = KeyValue | Exception


@dataclass
class BatchPlan:
    outcomes: list[Outcome] = field(default_factory=list)  # one per request, same order
    upserts: dict[str, dict[str, Any]] = field(default_factory=dict)  # final kv row per key
    deletes: set[str] = field(default_factory=set)  # keys gone at the end of the batch
    log_rows: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    last_revision: int = 0


def _serialise(obj: dict[str, Any], revision: int) -> bytes:
    """Stamp resourceVersion and serialise once; on failure the object is left as it was."""
    return serialise(obj, str(revision), keep=True)


def plan_batch(
    requests: list[WriteRequest], rows: dict[str, CurrentRow], next_revision: int, now: float
) -> BatchPlan:
    plan = BatchPlan(last_revision=next_revision - 1)
    state: dict[str, CurrentRow | None] = dict(rows)
    rev = next_revision
    for req in requests:
        try:
            cur = state.get(req.key)
            if req.op == CREATE:
                if cur is not None:
                    raise KeyExistsError(req.key)
                value = _serialise(req.obj, rev)  # type: ignore[arg-type]
                state[req.key] = (rev, rev, value)
                plan.events.append(Event("ADDED", req.key, rev, value))
                prev_rev, log_type, create_rev = 0, "ADDED", rev
            elif cur is None:
                raise KeyNotFoundError(req.key)
            elif req.op == UPDATE:
                if cur[0] != req.expected_revision:
                    raise ConflictError(cur[0], cur[2])
                value = _serialise(req.obj, rev)  # type: ignore[arg-type]
                state[req.key] = (rev, cur[1], value)
                plan.events.append(Event("MODIFIED", req.key, rev, value, cur[2]))
                prev_rev, log_type, create_rev = cur[0], "MODIFIED", cur[1]
            elif req.op == DELETE:
                if req.expected_revision is not None and cur[0] != req.expected_revision:
                    raise ConflictError(cur[0], cur[2])
                try:
                    last = jsonutil.loads(cur[2])
                except jsonutil.JSONDecodeError as e:
                    raise StorageError(f"stored value of {req.key} is not JSON: {e}") from e
                value = _serialise(last, rev)
                state[req.key] = None
                plan.events.append(Event("DELETED", req.key, rev, value, cur[2]))
                prev_rev, log_type, create_rev = cur[0], "DELETED", 0
            else:
                raise StorageError(f"unknown write operation {req.op!r}")
        except Exception as e:  # the request fails alone; the batch goes on
            plan.outcomes.append(e)
            continue
        if log_type == "DELETED":
            plan.upserts.pop(req.key, None)
            plan.deletes.add(req.key)
        else:
            plan.deletes.discard(req.key)
            plan.upserts[req.key] = {
                "key": req.key,
                "mod_revision": rev,
                "create_revision": create_rev,
                "value": value,
            }
        plan.log_rows.append(
            {
                "revision": rev,
                "key": req.key,
                "type": log_type,
                "value": value,
                "prev_revision": prev_rev,
                "created_at": now,
            }
        )
        plan.outcomes.append(KeyValue(req.key, rev, value))
        plan.last_revision = rev
        rev += 1
    return plan

"""Compaction: drop log history older than the kept window, remember how far it went.

The compacted revision C means "events with revision <= C are gone": a watch from a revision
below C answers CompactedError (410). C is persisted in `meta`, so a restarted store still
answers 410. The newest log row is never deleted, so max(log.revision) stays the store's
revision. Each key's newest row at or below C stays (kine's rule), so a paged list at a
revision >= C can rebuild a key that changed after it; older versions and deletions go.
Deletes run on the writer thread in slices, so a big backlog never stalls writes for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from sqlalchemy import Connection

from apiserver.storage import sql

log = logging.getLogger(__name__)

SLICE = 20000  # revisions deleted per writer-thread transaction


def compaction_target(newest: int, before_cutoff: int | None, compacted: int) -> int:
    """The revision to compact to: the newest one older than the cutoff, never the newest of all,
    never backwards."""
    if before_cutoff is None:
        return compacted
    return max(compacted, min(before_cutoff, newest - 1))


def compact_job(conn: Connection, cutoff: float) -> tuple[int, bool]:
    """One slice of compaction in the caller's transaction; returns (compacted, more to do)."""
    compacted = sql.compacted_revision(conn)
    target = compaction_target(sql.max_revision(conn), sql.revision_before(conn, cutoff), compacted)
    if target <= compacted:
        return compacted, False
    upto = min(target, compacted + SLICE)
    sql.compact_log_range(conn, compacted, upto)
    sql.set_compacted(conn, upto)
    return upto, upto < target


class Compactable(Protocol):
    async def compact(self, keep_seconds: float) -> int: ...


async def compaction_loop(store: Compactable, keep_seconds: float, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        with contextlib.suppress(asyncio.TimeoutError):
            try:
                await store.compact(keep_seconds)
            except Exception as e:
                log.warning("compaction failed: %s", e)

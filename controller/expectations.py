"""Expectations: what a controller has written but its informer has not shown it yet.

After creating 5 pods the cache may still show the old count for a few milliseconds; acting on
it would create them twice. So a controller records what it expects (n creations, these pod
UIDs deleted) and skips syncing the owner until the watch has delivered them, or until the
record is older than `ttl` (a lost watch event must not wedge the controller forever), as
Kubernetes' UIDTrackingControllerExpectations do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass
class _Record:
    adds: int = 0
    deletes: set[str] = field(default_factory=set)
    at: float = 0.0


class Expectations:
    def __init__(self, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._records: dict[str, _Record] = {}

    def satisfied(self, key: str) -> bool:
        r = self._records.get(key)
        if r is None:
            return True
        if r.adds <= 0 and not r.deletes:
            return True
        return self.clock() - r.at > self.ttl

    def expect_creations(self, key: str, n: int) -> None:
        self._records[key] = _Record(adds=n, at=self.clock())

    def expect_deletions(self, key: str, uids: Iterable[str]) -> None:
        self._records[key] = _Record(deletes=set(uids), at=self.clock())

    def creation_observed(self, key: str, n: int = 1) -> None:
        r = self._records.get(key)
        if r is not None:
            r.adds -= n

    def deletion_observed(self, key: str, uid: str) -> None:
        r = self._records.get(key)
        if r is not None:
            r.deletes.discard(uid)

    def pending(self, key: str) -> tuple[int, int]:
        r = self._records.get(key)
        return (max(0, r.adds), len(r.deletes)) if r else (0, 0)

    def delete(self, key: str) -> None:
        self._records.pop(key, None)

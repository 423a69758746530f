"""The server's API Priority and Fairness configuration, fed by a watch of its two kinds.

Both kinds are mirrored (`StoreMirror`: list, then watch; this server's own writes are fed in at
once by the kinds' write hook). A change marks the configuration dirty; the next request (or the
status task) rebuilds it, as kube's configController digests its informers' objects:

- the PriorityLevelConfigurations become `Level`s: nominal seats and the range lending and
  borrowing move them in (`borrowing.bounds`), a `QueueSet` kept across rebuilds (reconfigured:
  requests waiting in it keep waiting) and the level's demand statistics. The mandatory `exempt`
  and `catch-all` levels are imagined from the bootstrap objects when missing, as kube does. As
  kube's digest, every rebuild is also an adjustment of the current limits (`adjust`), which the
  gate repeats every borrowing period.
- the FlowSchemas are compiled in matching order; one naming a missing level is left out (and
  marked Dangling in its status by the status task); missing mandatory schemas are supplied.
- the decision cache is dropped: `decide` caches, per (user, groups, verb, API group, resource,
  namespace) or non-resource path, the schema, level, flow hash and response headers, so a
  request classifies with one dict lookup until the next change. The cache is bounded.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from api import jsonutil
from apiserver.flowcontrol import bootstrap as boot
from apiserver.flowcontrol.borrowing import Bounds, DemandStats, Spec, bounds, current_limits
from apiserver.flowcontrol.classify import RequestDigest, Schema, classify, compile_schema, compile_schemas
from apiserver.flowcontrol.metrics import FlowStats
from apiserver.flowcontrol.queueing import Clock, QueueSet
from apiserver.flowcontrol.width import level_max_seats
from apiserver.mirror import StoreMirror

log = logging.getLogger(__name__)
Obj = dict[str, Any]
CACHE_MAX = 4096
FS_HEADER = b"x-kubernetes-pf-flowschema-uid"
PL_HEADER = b"x-kubernetes-pf-prioritylevel-uid"


@dataclass
class Level:
    name: str
    uid: str
    queues: QueueSet  # the exempt level's never waits
    bounds: Bounds
    max_seats: int  # the widest request (`width.level_max_seats`)
    demand: DemandStats = field(default_factory=DemandStats)


@dataclass(frozen=True)
class Decision:
    schema: str
    level: Level
    flow_hash: int
    headers: tuple[tuple[bytes, bytes], ...]
    stats: FlowStats


def flow_hash(schema: str, distinguisher: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{schema}\0{distinguisher}".encode(), digest_size=8).digest())


def dangling_condition(fs: Obj, levels: set[str]) -> Obj:
    """The Dangling condition a FlowSchema should carry (without its transition time)."""
    level = str(((fs.get("spec") or {}).get("priorityLevelConfiguration") or {}).get("name") or "")
    if level in levels:
        return {
            "type": "Dangling",
            "status": "False",
            "reason": "Found",
            "message": f'This FlowSchema references the PriorityLevelConfiguration object named "{level}" '
            "and it exists",
        }
    return {
        "type": "Dangling",
        "status": "True",
        "reason": "NotFound",
        "message": f'This FlowSchema references the PriorityLevelConfiguration object named "{level}" '
        "but there is no such object",
    }


def _settle(tickets: list[Hashable], ok: bool | str) -> None:
    """Wake waiters: True runs them, a string rejects them for that reason (metrics' `reason`)."""
    for t in tickets:
        if isinstance(t, asyncio.Future) and not t.done():
            t.set_result(ok)


class FlowConfig:
    def __init__(self, store: Any, server_limit: int, wait_limit: float, clock: Clock) -> None:
        assert boot.FLOW_SCHEMAS is not None and boot.PRIORITY_LEVELS is not None
        self.server_limit = server_limit
        self.wait_limit = wait_limit
        self.clock = clock
        self.flow_schemas: dict[str, Obj] = {}
        self.priority_levels: dict[str, Obj] = {}
        self.fs_prefix = boot.FLOW_SCHEMAS.storage_prefix()
        self.pl_prefix = boot.PRIORITY_LEVELS.storage_prefix()
        self.mirrors = [
            StoreMirror(store, self.fs_prefix, self.note, self.flow_schemas.clear),
            StoreMirror(store, self.pl_prefix, self.note, self.priority_levels.clear),
        ]
        self.schemas: list[Schema] = []
        self.levels: dict[str, Level] = {}
        self.cache: dict[Hashable, Decision] = {}
        self.stats: dict[tuple[str, str], FlowStats] = {}  # (level, schema): kept for the metrics
        self.dirty = True
        self.changed = asyncio.Event()  # wakes the status task

    async def start(self) -> None:
        for m in self.mirrors:
            await m.start()

    async def stop(self) -> None:
        for m in self.mirrors:
            await m.stop()

    def note(self, key: str, value: bytes | None) -> None:
        """A change of either kind (watch, or this server's own write)."""
        table, prefix = (
            (self.flow_schemas, self.fs_prefix)
            if key.startswith(self.fs_prefix)
            else (self.priority_levels, self.pl_prefix)
        )
        name = key[len(prefix) :]
        if value is None:
            table.pop(name, None)
        else:
            table[name] = jsonutil.loads(value)
        self.dirty = True
        self.changed.set()

    def decide(self, key: Hashable, digest: RequestDigest) -> Decision:
        """The cached decision for `key`, made from `digest` on a miss."""
        if self.dirty:
            self.rebuild()
        found = self.cache.get(key)
        if found is None:
            found = self._decide(digest)
            if len(self.cache) >= CACHE_MAX:
                self.cache.clear()
            self.cache[key] = found
        return found

    def _decide(self, digest: RequestDigest) -> Decision:
        schema = classify(self.schemas, digest) or self.schemas[-1]
        level = self.levels[schema.level]
        headers = ((FS_HEADER, schema.uid.encode()), (PL_HEADER, level.uid.encode()))
        stats = self.stats.get((level.name, schema.name))
        if stats is None:
            stats = self.stats[level.name, schema.name] = FlowStats(level.name, schema.name)
        return Decision(schema.name, level, flow_hash(schema.name, schema.flow(digest)), headers, stats)

    def rebuild(self) -> None:
        self.dirty = False
        self.cache = {}
        levels: dict[str, Obj] = {pl["metadata"]["name"]: pl for pl in self.priority_levels.values()}
        for pl in boot.MANDATORY_LEVELS:  # imagined when missing
            levels.setdefault(pl["metadata"]["name"], pl)
        limits = bounds({name: _spec(pl) for name, pl in levels.items()}, self.server_limit)
        new_levels: dict[str, Level] = {}
        for name, pl in levels.items():
            uid = str(pl["metadata"].get("uid") or "")
            new_levels[name] = self._level(name, uid, pl, limits[name])
        self.levels = new_levels
        present = [fs for fs in self.flow_schemas.values() if self._level_of(fs) in new_levels]
        have = {fs["metadata"]["name"] for fs in present}
        for fs in boot.MANDATORY_SCHEMAS:
            if fs["metadata"]["name"] not in have:
                present.append(fs)
        self.schemas = compile_schemas(present)
        if self.schemas[-1].name != "catch-all":  # nothing may come after the catch-all's answer
            self.schemas.append(compile_schema(boot.MANDATORY_SCHEMAS[1]))
        self.adjust()

    def adjust(self) -> None:
        """The borrowing adjustment (kube's updateBorrowing): each level's demand over the period
        just ended, then current limits shared out from the sum of the nominal ones; a limit that
        rises lets waiters run at once."""
        if self.dirty:
            self.rebuild()  # which adjusts
            return
        inputs = {}
        for name, level in self.levels.items():
            level.demand = level.demand.update(level.queues.take_demand())
            inputs[name] = (level.bounds, level.demand)
        total = sum(level.bounds.nominal for level in self.levels.values())
        for name, limit in current_limits(inputs, total).items():
            _settle(self.levels[name].queues.set_limit(limit), True)

    def _level(self, name: str, uid: str, pl: Obj, b: Bounds) -> Level:
        old = self.levels.get(name)
        spec = pl.get("spec") or {}
        if spec.get("type") == "Exempt":
            qs = old.queues if old is not None and old.queues.exempt else None
            qs = qs or QueueSet(name, b.nominal, clock=self.clock, exempt=True)
            demand = old.demand if old is not None else DemandStats()
            return Level(name, uid, qs, b, level_max_seats(b.nominal, 1, False), demand)
        response = (spec.get("limited") or {}).get("limitResponse") or {}
        q = response.get("queuing") or {} if response.get("type") == "Queue" else {}
        queues, hand, qll = (
            int(q.get("queues") or 0),
            int(q.get("handSize") or 1),
            int(q.get("queueLengthLimit") or 0),
        )
        max_seats = level_max_seats(b.nominal, hand, bool(queues))
        if old is not None and not old.queues.exempt:
            dispatched, rejected = old.queues.reconfigure(queues, hand, qll)
            _settle(dispatched, True)
            _settle(rejected, "concurrency-limit")
            return Level(name, uid, old.queues, b, max_seats, old.demand)
        qs = QueueSet(name, b.nominal, queues, hand, qll, self.wait_limit, self.clock)
        return Level(name, uid, qs, b, max_seats)

    @staticmethod
    def _level_of(fs: Obj) -> str:
        return str(((fs.get("spec") or {}).get("priorityLevelConfiguration") or {}).get("name") or "")

    def dangling_updates(self) -> list[tuple[str, Obj]]:
        """(FlowSchema name, the Dangling condition it should carry) where its status differs."""
        if self.dirty:
            self.rebuild()
        names = {pl["metadata"]["name"] for pl in self.priority_levels.values()}
        out = []
        for name, fs in self.flow_schemas.items():
            want = dangling_condition(fs, names)
            have = next(
                (c for c in (fs.get("status") or {}).get("conditions") or [] if c.get("type") == "Dangling"),
                None,
            )
            if have is None or any(have.get(k) != v for k, v in want.items()):
                out.append((name, want))
        return out


def _spec(pl: Obj) -> Spec:
    """A level's shares, lendable and borrowing percents (kube's plSpecCommons): the exempt level
    lends what its spec.exempt says and borrows without limit."""
    spec = pl.get("spec") or {}
    if spec.get("type") == "Exempt":
        exempt = spec.get("exempt") or {}
        return Spec(int(exempt.get("nominalConcurrencyShares") or 0), int(exempt.get("lendablePercent") or 0))
    limited = spec.get("limited") or {}
    borrowing = limited.get("borrowingLimitPercent")
    return Spec(
        int(limited.get("nominalConcurrencyShares", 30) or 0),
        int(limited.get("lendablePercent") or 0),
        None if borrowing is None else int(borrowing),
    )

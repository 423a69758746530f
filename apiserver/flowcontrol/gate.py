"""The API Priority and Fairness gate every request passes after authentication and authorization.

`ApiServerApp` asks `decide_*` for the request's decision (cached, `config.FlowConfig`), sends its
`X-Kubernetes-PF-FlowSchema-UID` / `-PriorityLevel-UID` headers with whatever it answers, and,
holds the request's seats (its width, `width`) of the level while it runs: `admit` takes them at
once when it can (no await), else `wait` waits in the level's queues until `leave` of another
request hands them over, or answers kube's 429 (`Too many requests, please try again later.`,
Retry-After) when the queue is full, the level rejects, or the wait passes the queue wait limit
(kube: a quarter of the request timeout, 15 s). The exempt level never waits, but its seats count.

The borrowing task adjusts every level's current limit each period (kube: 10 s; the internal
KUBELITE_APF_BORROWING_PERIOD lets tests shorten it), see `borrowing`, and keeps the stored object
counts the LIST width estimate reads fresh (kube's object count tracker: every minute).

As in kube, long-running requests (exec, attach, port-forward, proxy, logs) are not classified,
and a watch holds its seat only while it starts: `WatchSeat` gives it back once the watch's
initial events are handed to the connection (kube: once the watch is initialized), after waiting
for the connection to drain if it is paused (over TLS, asyncio pauses only once the socket's
buffer is full and a later write is pending, so one large initial write does not wait).

The status task writes each FlowSchema's `Dangling` condition as kube's configController does,
only where it differs from what is stored, so several servers agree instead of fighting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from api import jsonutil
from api.errors import ApiError
from apiserver.flowcontrol import bootstrap as boot
from apiserver.flowcontrol import width as fcwidth
from apiserver.flowcontrol.borrowing import PERIOD
from apiserver.flowcontrol.classify import RequestDigest
from apiserver.flowcontrol.config import Decision, FlowConfig, _settle
from apiserver.flowcontrol.queueing import EXECUTE, REJECT, QueueSet

log = logging.getLogger(__name__)
LONG_RUNNING = frozenset({"exec", "attach", "portforward", "proxy", "log"})
DUMP_PATH = "/debug/api_priority_and_fairness/dump_priority_levels"
RETRY_AFTER = 1
COUNT_PERIOD = 60.0  # how often stored objects are counted for the LIST estimate


def too_many_requests() -> ApiError:
    return ApiError(
        429,
        "TooManyRequests",
        "Too many requests, please try again later.",
        {"retryAfterSeconds": RETRY_AFTER},
    )


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()


class Gate:
    def __init__(self, store: Any, server_limit: int, wait_limit: float = 15.0) -> None:
        self.config = FlowConfig(store, server_limit, wait_limit, MonotonicClock())
        self.store = store
        self.period = float(os.environ.get("KUBELITE_APF_BORROWING_PERIOD") or PERIOD)
        # storage prefix -> objects stored (None until counted): what a LIST's width is made from
        self.counts: dict[str, int | None] = {}
        # watches open by kube's watch-tracker identity (fcwidth.watch_identity): a write's extra width
        self.watches: dict[fcwidth.WatchIdentity, int] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, registry: Any) -> None:
        await self.config.start()
        self._tasks = [
            asyncio.create_task(self._write_status(registry)),
            asyncio.create_task(self._borrow()),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        await self.config.stop()

    async def _borrow(self) -> None:
        counted = -COUNT_PERIOD
        while True:
            await asyncio.sleep(self.period)
            try:
                self.config.adjust()
            except Exception:
                log.exception("API Priority and Fairness: the borrowing adjustment failed")
            now = self.config.clock.now()  # the gate's MonotonicClock
            due = now - counted >= COUNT_PERIOD
            counted = now if due else counted
            for prefix, n in list(self.counts.items()):
                if due or n is None:  # a resource listed for the first time is counted soon
                    try:
                        self.counts[prefix] = await self.store.count(prefix)
                    except Exception as e:
                        log.info("objects under %s not counted: %s", prefix, e)

    # --- widths -------------------------------------------------------------------------------

    def stored(self, prefix: str) -> int | None:
        """Objects stored under `prefix` as last counted (None: not yet; it will be)."""
        return self.counts.setdefault(prefix, None)

    def watch_started(self, identity: fcwidth.WatchIdentity | None) -> None:
        if identity is not None:
            self.watches[identity] = self.watches.get(identity, 0) + 1

    def watch_ended(self, identity: fcwidth.WatchIdentity | None) -> None:
        if identity is not None:
            left = self.watches[identity] - 1
            if left:
                self.watches[identity] = left
            else:
                del self.watches[identity]

    def interested_watches(self, group: str, resource: str, namespace: str, name: str) -> int:
        """Watches that may see a write's event (kube's watch tracker: `fcwidth.interested`)."""
        return fcwidth.interested(self.watches, group, resource, namespace, name) if self.watches else 0

    # --- classification ---------------------------------------------------------------------

    def decide_resource(self, user: Any, verb: str, group: str, resource: str, namespace: str) -> Decision:
        key = (user.name, user.groups, verb, group, resource, namespace)
        found = self.config.cache.get(key)
        if found is not None and not self.config.dirty:
            return found
        digest = RequestDigest(user.name, user.groups, verb, True, group, resource, namespace)
        return self.config.decide(key, digest)

    def decide_path(self, user: Any, method: str, path: str) -> Decision:
        key = (user.name, user.groups, method, path)
        found = self.config.cache.get(key)
        if found is not None and not self.config.dirty:
            return found
        return self.config.decide(
            key, RequestDigest(user.name, user.groups, method.lower(), False, path=path)
        )

    # --- seats --------------------------------------------------------------------------------

    async def wait(self, d: Decision, width: int = 1) -> None:
        """`d`'s level's seats, waited for in its queues (the caller tried `admit`)."""
        qs, stats = d.level.queues, d.stats
        fut: asyncio.Future[bool | str] = asyncio.get_running_loop().create_future()
        outcome = qs.offer(d.flow_hash, fut, width)
        if outcome == EXECUTE:
            _dispatched(d, width)
            return
        if outcome == REJECT:
            stats.rejected["queue-full" if qs.queues else "concurrency-limit"] += 1
            raise too_many_requests()
        stats.inqueue += 1
        timer = asyncio.get_running_loop().call_later(qs.wait_limit + 0.01, self._expire, qs)
        try:
            ok = await fut
        except asyncio.CancelledError:
            if qs.cancel(fut):
                stats.rejected["cancelled"] += 1
            elif fut.done() and not fut.cancelled() and fut.result() is True:
                _settle(qs.done(width), True)  # dispatched as it was cancelled: the seats go on
            raise
        finally:
            timer.cancel()
            stats.inqueue -= 1
        if ok is not True:
            stats.rejected[str(ok)] += 1
            raise too_many_requests()
        _dispatched(d, width)

    @staticmethod
    def _expire(qs: QueueSet) -> None:
        _settle(qs.expire(), "time-out")

    # --- status and debugging -----------------------------------------------------------------

    async def _write_status(self, registry: Any) -> None:
        res = boot.FLOW_SCHEMAS
        while True:
            await self.config.changed.wait()
            self.config.changed.clear()
            await asyncio.sleep(0.05)  # a burst of changes (bootstrap, apply -f) written once
            for name, condition in self.config.dangling_updates():
                try:
                    await registry.update(res, None, name, _with_condition(condition), subresource="status")
                except ApiError as e:  # deleted meanwhile, or another server wrote it
                    log.info("FlowSchema %s status not written: %s", name, e)
                except Exception:
                    log.exception("FlowSchema %s status not written", name)

    def dump_priority_levels(self) -> bytes:
        """kube's /debug/api_priority_and_fairness/dump_priority_levels, in its columns."""
        if self.config.dirty:
            self.config.rebuild()
        head = (
            "PriorityLevelName, ActiveQueues, IsIdle, IsQuiescing, WaitingRequests, ExecutingRequests, "
            "DispatchedRequests, RejectedRequests, TimedoutRequests, CancelledRequests"
        )
        lines = [head]
        for name in sorted(self.config.levels):
            qs = self.config.levels[name].queues
            if qs.exempt:
                lines.append(
                    f"{name}, <none>, <none>, <none>, <none>, <none>, <none>, <none>, <none>, <none>"
                )
                continue
            c = qs.counters
            idle = qs.executing == 0 and qs.waiting == 0
            lines.append(
                f"{name}, {qs.active_queues()}, {str(idle).lower()}, false, {qs.waiting}, {qs.executing}, "
                f"{c.dispatched}, {c.rejected}, {c.timed_out}, 0"
            )
        return ("\n".join(lines) + "\n").encode()


def admit(d: Decision, width: int) -> bool:
    """The hot path: `d`'s level has the seats free and nobody waits -> they are taken."""
    if d.level.queues.try_execute(width):
        _dispatched(d, width)
        return True
    return False


def _dispatched(d: Decision, width: int) -> None:
    s = d.stats
    s.dispatched += 1
    s.executing += 1
    s.seats += width


def leave(d: Decision, width: int = 1, latency: float = 0.0) -> None:
    """A request ended: its seats go to the next waiters, now or, for a write whose event still fans
    out to watches, after `latency` (kube's additional latency: the seats stay taken meanwhile)."""
    if latency > 0:
        asyncio.get_running_loop().call_later(latency, leave, d, width)
        return
    s = d.stats
    s.executing -= 1
    s.seats -= width
    _settle(d.level.queues.done(width), True)


def _with_condition(
    condition: dict[str, Any],
) -> Callable[[dict[str, Any], Any], tuple[dict[str, Any], None]]:
    def mutate(obj: dict[str, Any], _kv: Any) -> tuple[dict[str, Any], None]:
        status = obj.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "Dangling"]
        conditions.append({**condition, "lastTransitionTime": jsonutil.now_str()})
        status["conditions"] = conditions
        return obj, None

    return mutate


class Seat:
    """A held seat, given back once (`release`), by the request's end or a watch's start."""

    __slots__ = ("d",)

    def __init__(self, d: Decision) -> None:
        self.d: Decision | None = d

    def release(self) -> None:
        d, self.d = self.d, None
        if d is not None:
            leave(d)


class WatchSeat:
    """A watch's `send`: the seat is given back once its initial events are out (the first body
    chunk written, and drained if the connection is paused; for a watch from a resourceVersion,
    its start)."""

    __slots__ = ("initial", "seat", "send")

    def __init__(self, send: Any, seat: Seat, initial: bool) -> None:
        self.send, self.seat, self.initial = send, seat, initial

    async def __call__(self, message: dict[str, Any]) -> None:
        await self.send(message)
        if self.seat.d is None:
            return
        kind = message["type"]
        if kind == "http.response.body":
            if message.get("more_body"):  # an empty chunk waits until the transport drained
                await self.send({"type": "http.response.body", "body": b"", "more_body": True})
            self.seat.release()
        elif kind == "http.response.start" and not self.initial:
            self.seat.release()

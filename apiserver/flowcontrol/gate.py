"""The API Priority and Fairness gate every request passes after authentication and authorization.

`ApiServerApp` asks `decide_*` for the request's decision (cached, `config.FlowConfig`), sends its
`X-Kubernetes-PF-FlowSchema-UID` / `-PriorityLevel-UID` headers with whatever it answers, and,
unless the level is exempt, holds a seat of the level while the request runs: `enter` takes one at
once when it can (no await), else waits in the level's queues until `leave` of another request
hands it over, or answers kube's 429 (`Too many requests, please try again later.`, Retry-After)
when the queue is full, the level rejects, or the wait passes the queue wait limit (kube:
a quarter of the request timeout, 15 s).

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
import time
from collections.abc import Callable
from typing import Any

from api import jsonutil
from api.errors import ApiError
from apiserver.flowcontrol import bootstrap as boot
from apiserver.flowcontrol.classify import RequestDigest
from apiserver.flowcontrol.config import Decision, FlowConfig, _settle
from apiserver.flowcontrol.queueing import EXECUTE, REJECT, QueueSet

log = logging.getLogger(__name__)
LONG_RUNNING = frozenset({"exec", "attach", "portforward", "proxy", "log"})
DUMP_PATH = "/debug/api_priority_and_fairness/dump_priority_levels"
RETRY_AFTER = 1


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
        self._status: asyncio.Task[None] | None = None

    async def start(self, registry: Any) -> None:
        await self.config.start()
        self._status = asyncio.create_task(self._write_status(registry))

    async def stop(self) -> None:
        if self._status is not None:
            self._status.cancel()
            with contextlib.suppress(BaseException):
                await self._status
        await self.config.stop()

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

    async def wait(self, d: Decision) -> None:
        """A seat of `d`'s Limited level, waited for in its queues (the caller tried `try_execute`)."""
        qs = d.level.queues
        assert qs is not None
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        outcome = qs.offer(d.flow_hash, fut)
        if outcome == EXECUTE:
            return
        if outcome == REJECT:
            raise too_many_requests()
        timer = asyncio.get_running_loop().call_later(qs.wait_limit + 0.01, self._expire, qs)
        try:
            ok = await fut
        except asyncio.CancelledError:
            if not qs.cancel(fut) and fut.done() and not fut.cancelled() and fut.result():
                leave(qs)  # dispatched as it was cancelled: the seat goes on
            raise
        finally:
            timer.cancel()
        if not ok:
            raise too_many_requests()

    @staticmethod
    def _expire(qs: QueueSet) -> None:
        _settle(qs.expire(), False)

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
            if qs is None:
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


def leave(qs: QueueSet) -> None:
    """A request of a Limited level ended: its seat goes to the next waiter, if any."""
    _settle(qs.done(), True)


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

    __slots__ = ("qs",)

    def __init__(self, qs: QueueSet) -> None:
        self.qs: QueueSet | None = qs

    def release(self) -> None:
        qs, self.qs = self.qs, None
        if qs is not None:
            leave(qs)


class WatchSeat:
    """A watch's `send`: the seat is given back once its initial events are out (the first body
    chunk written, and drained if the connection is paused; for a watch from a resourceVersion,
    its start)."""

    __slots__ = ("initial", "seat", "send")

    def __init__(self, send: Any, seat: Seat, initial: bool) -> None:
        self.send, self.seat, self.initial = send, seat, initial

    async def __call__(self, message: dict[str, Any]) -> None:
        await self.send(message)
        if self.seat.qs is None:
            return
        kind = message["type"]
        if kind == "http.response.body":
            if message.get("more_body"):  # an empty chunk waits until the transport drained
                await self.send({"type": "http.response.body", "body": b"", "more_body": True})
            self.seat.release()
        elif kind == "http.response.start" and not self.initial:
            self.seat.release()

"""One worker per pod UID, so pods sync in parallel and a pod never syncs twice at once.

Modelled on the kubelet's pod_workers.go: `update(pod)` records the newest version of a pod and
wakes its worker; updates that arrive while a sync runs collapse into one (the worker reads
only the latest). `reconcile(pod)` records a version that differs only in status (most often the
kubelet's own report coming back through the watch) without waking anyone, as the kubelet's
config source sorts such an update as RECONCILE rather than UPDATE. A sync returns when it next wants to run (back-off expiry, probe period,
periodic resync) or `DONE` once the pod is gone and torn down, which ends the worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

DONE = -1.0  # returned by a sync: the pod is finished, stop its worker

SyncFn = Callable[[dict[str, Any]], Awaitable[float]]

# what the kubelet's podsDifferSemantically compares: a change elsewhere (status, resourceVersion,
# managedFields) is no reason to sync
_SYNCED_META = ("labels", "annotations", "deletionTimestamp", "deletionGracePeriodSeconds")


def differs_semantically(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether `new` changes what a sync acts on: the spec, labels, annotations or deletion."""
    if old.get("spec") != new.get("spec"):
        return True
    old_meta, new_meta = old.get("metadata") or {}, new.get("metadata") or {}
    return any(old_meta.get(k) != new_meta.get(k) for k in _SYNCED_META)


class PodWorkers:
    def __init__(self, sync: SyncFn, error_delay: float = 1.0) -> None:
        self._sync = sync
        self._error_delay = error_delay
        self._latest: dict[str, dict[str, Any]] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def update(self, pod: dict[str, Any]) -> None:
        uid = pod["metadata"]["uid"]
        self._latest[uid] = pod
        if uid not in self._tasks:
            self._wake[uid] = asyncio.Event()
            self._tasks[uid] = asyncio.create_task(self._work(uid), name=f"pod:{pod['metadata'].get('name')}")
        self._wake[uid].set()

    def reconcile(self, pod: dict[str, Any]) -> None:
        """Remember a newer version for the next sync, without waking the worker (a pod without
        one gets one: nothing has synced it yet)."""
        uid = pod["metadata"]["uid"]
        if uid in self._tasks:
            self._latest[uid] = pod
        else:
            self.update(pod)

    def wake(self, uid: str) -> None:
        """Sync again now with the version already known (a probe or a container changed)."""
        ev = self._wake.get(uid)
        if ev is not None:
            ev.set()

    def known(self) -> set[str]:
        return set(self._tasks)

    def latest(self, uid: str) -> dict[str, Any] | None:
        return self._latest.get(uid)

    async def _work(self, uid: str) -> None:
        wake = self._wake[uid]
        delay: float | None = None
        try:
            while True:
                if delay is not None:
                    # asyncio.timeout, not wait_for: in 3.11 wait_for can swallow a cancellation that
                    # races with the wake-up, and the worker would outlive stop()
                    try:
                        async with asyncio.timeout(delay):
                            await wake.wait()
                    except TimeoutError:
                        pass
                wake.clear()
                pod = self._latest[uid]
                try:
                    delay = await self._sync(pod)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("sync of pod %s failed", pod["metadata"].get("name"))
                    delay = self._error_delay
                if delay == DONE and not wake.is_set():
                    return
                if delay == DONE:
                    delay = 0.0
        finally:
            self._tasks.pop(uid, None)
            self._wake.pop(uid, None)
            self._latest.pop(uid, None)

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

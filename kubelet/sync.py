"""`sync_pod`: make the runtime match one pod, then report what is observed (level-triggered).

Every sync starts from observation, never from memory of past actions: the pod's sandbox and
container instances are listed from the runtime by the labels the kubelet put on them (pod
UID, container name, restart count), so a restarted kubelet adopts running containers and
nothing restarts. Then, in order: sandbox (recreated with all containers if it is gone), the
ephemeral containers that never ran (`kubelet.ephemeral`), init containers one by one, the
containers (each by `decisions.container_action`), and the status, recomputed by
`status.build_status` and written only when it changed. A deleted pod is killed
(SIGTERM, grace period, SIGKILL), its sandbox and volumes removed, and its deletion confirmed
with a grace-0 delete. The return value tells the pod worker when to sync again.

This module is the sync's order and the pod's end (failure, deadline, eviction, deletion); the
steps are the parts `PodSyncer` is made of: `podsetup` (sandbox, volume files), `containersync`
(which containers to start, restart or kill) over `containerstart` (one container's start),
`statusreport` (the status write), all sharing `syncstate`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

from api import jsonutil
from api.errors import ApiError
from api.events import WARNING
from api.podstatus import is_restartable_init
from kubelet import admission, localstorage, volumes
from kubelet.containerconfig import CONTAINER_NAME, POD_UID
from kubelet.containersync import ContainerSync
from kubelet.hooks import kill_container
from kubelet.instances import newest_by_name
from kubelet.podfiles import pod_dir
from kubelet.podsetup import PodSetup
from kubelet.podworkers import DONE
from kubelet.statusreport import StatusReporting
from kubelet.syncstate import RESYNC, PodNotReady
from runtime.diskusage import usage_bytes
from runtime.interface import ContainerInfo, SandboxInfo

log = logging.getLogger(__name__)

DEADLINE_EXCEEDED = "DeadlineExceeded"
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"
RESYNC_JITTER = 0.5  # kubelet's workerResyncIntervalJitterFactor: each pod waits [60, 90) s


def resync_delay(next_sync: float) -> float:
    """The delay a sync asks for, the periodic one spread as kubelet's pod workers spread it, so
    that the pods of a node (or of hundreds of hollow nodes) started together do not sync together."""
    if next_sync < RESYNC:
        return max(next_sync, 0.05)
    return next_sync * (1 + RESYNC_JITTER * random.random())


class PodSyncer(ContainerSync, PodSetup, StatusReporting):
    """One pod's sync and teardown; its steps are the parts it is made of."""

    # --- observation -------------------------------------------------------------------
    async def _observe(self, uid: str) -> tuple[SandboxInfo | None, list[ContainerInfo]]:
        sandboxes = [s for s in await self.runtime.list_sandboxes() if s.config.uid == uid]
        ready = [s for s in sandboxes if s.state == "ready"]
        containers = await self.runtime.list_containers({POD_UID: uid})
        return (max(ready, key=lambda s: s.created_at) if ready else None), containers

    # --- the sync ----------------------------------------------------------------------
    async def sync(self, pod: dict[str, Any]) -> float:
        meta = pod["metadata"]
        uid = meta["uid"]
        if meta.get("deletionTimestamp"):
            await self.kill_pod(uid, self._grace(pod), pod)
            await self._confirm_deleted(pod)
            return DONE
        sandbox, containers = await self._observe(uid)
        refused = admission.refusal(pod)
        if refused is not None:  # never to run here: failed before anything is made
            await self._fail(pod, sandbox, containers, *refused)
            return RESYNC * 6
        left = self._deadline_left(pod)
        if left is not None and left <= 0:
            await self._fail(pod, sandbox, containers, DEADLINE_EXCEEDED, DEADLINE_MESSAGE)
            return RESYNC * 6
        phase = (pod.get("status") or {}).get("phase")
        reported = (self._last_status.get(uid) or {}).get("phase")
        if reported in ("Succeeded", "Failed"):
            # this kubelet's own word is final (kube's status manager): a sync woken by the
            # containers it just stopped, with the pod as it was before the API had the new
            # status, must not run them again
            phase = reported
        if phase in ("Succeeded", "Failed") and not any(c.state == "running" for c in containers):
            return RESYNC * 6  # terminal: nothing to run, keep the containers for their logs
        next_sync = RESYNC
        if localstorage.watched(pod):  # kube's eviction manager: local storage past its limits
            running = {
                name: seen[-1].id
                for name, seen in newest_by_name(containers).items()
                if seen and seen[-1].state == "running"  # kube measures the running ones
            }
            message = await localstorage.storage_eviction(
                pod,
                pod_dir(self.ctx.data_dir, uid) / "volumes",
                running,
                self.runtime.container_disk_usage,
                lambda path: asyncio.to_thread(usage_bytes, path),
            )
            if message is not None:
                await self._fail(pod, sandbox, containers, localstorage.EVICTED, message)
                return RESYNC * 6
            next_sync = localstorage.CHECK_EVERY
        try:
            if sandbox is None:
                sandbox = await self._new_sandbox(pod, containers)
                containers = []
            if volumes.written_volumes(pod):
                await self._refresh_volumes(pod, sandbox, containers)
            next_sync = min(next_sync, await self._sync_containers(pod, sandbox, containers))
            sandbox, containers = await self._observe(uid)
            if self.on_observed is not None:
                self.on_observed(uid, containers)
        except PodNotReady as e:
            log.info("pod %s/%s: %s", meta.get("namespace"), meta.get("name"), e)
            next_sync = min(next_sync, e.retry)
        if uid in self._deleting:
            return 0.0  # its deletion arrived mid-sync (a postStart cut short): tear down, report nothing
        await self._report(pod, sandbox, containers)
        if left is not None:  # wake when the deadline passes
            next_sync = min(next_sync, max(left, 0.0))
        return resync_delay(next_sync)

    def _deadline_left(self, pod: dict[str, Any]) -> float | None:
        """Seconds until the pod's activeDeadlineSeconds, counted from its startTime as the
        kubelet's active deadline handler counts (None: it has no deadline)."""
        deadline = (pod.get("spec") or {}).get("activeDeadlineSeconds")
        if not isinstance(deadline, int) or isinstance(deadline, bool):
            return None
        status = self._last_status.get(pod["metadata"]["uid"]) or pod.get("status") or {}
        started = status.get("startTime")
        if not started:
            return float(deadline)
        return deadline - (time.time() - jsonutil.parse_time(started).timestamp())

    async def _fail(
        self,
        pod: dict[str, Any],
        sandbox: SandboxInfo | None,
        containers: list[ContainerInfo],
        reason: str,
        message: str,
    ) -> None:
        """Stop the containers (kept for their logs) and report the pod Failed for `reason`, with
        a warning event once (DeadlineExceeded, Evicted, PodOSNotSupported, SysctlForbidden)."""
        uid = pod["metadata"]["uid"]
        if (self._last_status.get(uid) or pod.get("status") or {}).get("reason") != reason:
            self._event(pod, WARNING, reason, message)
        specs = {
            c["name"]: c
            for key in ("initContainers", "containers")
            for c in (pod.get("spec") or {}).get(key) or []
        }
        running = [c for c in containers if c.state == "running"]
        await asyncio.gather(
            *(
                kill_container(
                    self.runtime,
                    pod,
                    specs.get(c.labels.get(CONTAINER_NAME, "")),
                    c.id,
                    self._grace(pod),
                    sandbox.ip if sandbox else "",
                    self._event,
                )
                for c in running
            )
        )
        if running:
            sandbox, containers = await self._observe(uid)
        await self._report(pod, sandbox, containers, (reason, message))

    async def kill_pod(self, uid: str, grace: float, pod: dict[str, Any] | None = None) -> None:
        """Stop every container (in parallel, each with the grace period and its preStop hook), then
        the sidecars one by one, the last first, in what is left of the grace period (kube's
        termination order: a sidecar outlives the app it serves), then the sandbox and volumes."""
        spec = (pod or {}).get("spec") or {}
        specs = {c["name"]: c for key in ("initContainers", "containers") for c in spec.get(key) or []}
        sidecars = [c["name"] for c in reversed(spec.get("initContainers") or []) if is_restartable_init(c)]
        containers = await self.runtime.list_containers({POD_UID: uid})
        sandboxes = [s for s in await self.runtime.list_sandboxes() if s.config.uid == uid]
        pod_ip = next((s.ip for s in sandboxes if s.state == "ready"), "")

        def named(c: ContainerInfo) -> str:
            return c.labels.get(CONTAINER_NAME, "")

        began = self.clock()
        await asyncio.gather(
            *(
                self._remove_container(c, grace, specs.get(named(c)), pod, pod_ip)
                for c in containers
                if named(c) not in sidecars
            )
        )
        for name in sidecars:
            left = max(min(grace, 2.0), grace - (self.clock() - began))  # kube's 2 s at the least
            for c in containers:
                if named(c) == name:
                    await self._remove_container(c, left, specs.get(name), pod, pod_ip)
        for s in sandboxes:
            await self.runtime.stop_sandbox(s.id)
            await self.runtime.remove_sandbox(s.id)
        volumes.teardown_volumes(self.ctx.data_dir, uid, self.ctx.files)
        self.probes.forget_pod(uid)
        self.backoff.forget_prefix(uid + "/")
        self._last_status.pop(uid, None)
        self._deleting.forget(uid)
        for key in [k for k in self._waiting if k[0] == uid]:
            del self._waiting[key]

    async def _confirm_deleted(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        try:
            await self.client.delete(
                "pods",
                meta["name"],
                meta.get("namespace"),
                grace_period_seconds=0,
                preconditions={"uid": meta["uid"]},
            )
        except ApiError as e:
            if e.code not in (404, 409):
                raise

"""Which of a pod's containers to start, restart, kill or leave, in kube's order.

Ephemeral containers that never ran come first and hold nothing back; then the init containers
one at a time (a native sidecar, restartPolicy Always, is kept running and lets the next one go
once started, or once its startup probe passed); then the app containers, each by
`decisions.container_action` under the pod's restart policy, crash-loop back-off and liveness
verdicts. Exited instances past the newest two are removed, as the kubelet's container GC does.
When the app containers are done for good, the sidecars are stopped, the last first.
"""

from __future__ import annotations

from typing import Any

from api.events import WARNING
from api.podstatus import is_restartable_init
from kubelet import ephemeral
from kubelet.containerstart import ContainerStarting
from kubelet.decisions import (
    Action,
    container_action,
    init_action,
    init_done,
    regular_containers_finished,
)
from kubelet.hooks import kill_container
from kubelet.instances import instance, newest_by_name, restart_count
from kubelet.restart import crash_loop_message
from kubelet.syncstate import RESYNC, PodNotReady
from runtime.interface import ContainerInfo, SandboxInfo


class ContainerSync(ContainerStarting):
    """The container step of `PodSyncer.sync`."""

    async def _sync_containers(
        self, pod: dict[str, Any], sandbox: SandboxInfo, containers: list[ContainerInfo]
    ) -> float:
        spec = pod.get("spec") or {}
        uid = pod["metadata"]["uid"]
        policy = spec.get("restartPolicy", "Always")
        by_name = newest_by_name(containers)
        now = self.clock()
        apps = spec.get("containers") or []
        next_sync = await self._start_ephemeral(pod, sandbox, by_name)
        # once an app container was made, initialisation is over for good (kube's podHasInitialized)
        initialized = any(by_name.get(c["name"]) for c in apps)
        finished = initialized and regular_containers_finished(
            [instance(by_name[c["name"]][-1]) if by_name.get(c["name"]) else None for c in apps], policy
        )
        for c in spec.get("initContainers") or []:
            inst = by_name.get(c["name"], [])
            newest = inst[-1] if inst else None
            key = f"{uid}/{c['name']}"
            if is_restartable_init(c):
                if finished:
                    continue  # stopped below
                wait, running = await self._keep_running(pod, sandbox, c, inst, key, now, "Always")
                next_sync = min(next_sync, wait)
                if initialized or (running and self._started(pod, sandbox, c, running)):
                    continue
                return next_sync  # its start (relist) or its startup probe's success wakes this worker
            if initialized or init_done(instance(newest)):
                continue
            action = init_action(instance(newest), policy, self.backoff.remaining(key, now))
            await self._act(pod, sandbox, c, newest, action, key, now)
            # a running init container's exit wakes this worker through the relist (PLEG): no poll here
            return min(next_sync, self.backoff.remaining(key, now) if action is Action.WAIT else RESYNC)
        for c in apps:
            key = f"{uid}/{c['name']}"
            wait, _ = await self._keep_running(pod, sandbox, c, by_name.get(c["name"], []), key, now, policy)
            next_sync = min(next_sync, wait)
        if finished:
            await self._stop_sidecars(pod, sandbox, by_name)
        return next_sync

    async def _start_ephemeral(
        self, pod: dict[str, Any], sandbox: SandboxInfo, by_name: dict[str, list[ContainerInfo]]
    ) -> float:
        """Start the ephemeral containers that never ran; one that cannot start holds back no other
        container (kube starts them first, apart from the rest). When to try again."""
        uid, next_sync = pod["metadata"]["uid"], RESYNC
        for c in ephemeral.to_start(pod, by_name, self._last_status.get(uid) or pod.get("status") or {}):
            try:
                await self._start(pod, sandbox, c, 0, ephemeral.target_of(c, by_name))
            except PodNotReady as e:
                next_sync = min(next_sync, e.retry)
        return next_sync

    async def _keep_running(
        self,
        pod: dict[str, Any],
        sandbox: SandboxInfo,
        c: dict[str, Any],
        inst: list[ContainerInfo],
        key: str,
        now: float,
        policy: str,
    ) -> tuple[float, str | None]:
        """Start, restart, kill or keep one long-running container (an app container, or a sidecar
        under Always); returns when to sync again for it and the id of its instance running now."""
        newest = inst[-1] if inst else None
        verdicts = self.probes.verdicts(newest.id) if newest else None
        action = container_action(
            instance(newest),
            policy,
            self.backoff.remaining(key, now),
            bool(verdicts and verdicts.live_failed),
        )
        started = await self._act(pod, sandbox, c, newest, action, key, now)
        # like the kubelet's container GC: keep the newest and the one before it (for `logs
        # --previous` and lastState), counting an instance started just now
        for old in inst[: -1 if started is not None else -2]:
            if old.state == "exited":
                await self._remove_container(old, 0)
        if action is Action.WAIT:
            return self.backoff.remaining(key, now), None
        if action is Action.KILL:
            return 0.0, None
        if started is not None:
            return RESYNC, started
        return RESYNC, newest.id if newest is not None and newest.state == "running" else None

    def _started(self, pod: dict[str, Any], sandbox: SandboxInfo, c: dict[str, Any], running: str) -> bool:
        """Whether a running sidecar lets the next init container go: at once without a startup
        probe, else once that probe has passed (its success wakes the worker)."""
        if "startupProbe" not in c:
            return True
        return self.probes.ensure(pod["metadata"]["uid"], c, running, sandbox.ip).started

    async def _stop_sidecars(
        self, pod: dict[str, Any], sandbox: SandboxInfo, by_name: dict[str, list[ContainerInfo]]
    ) -> None:
        """The app containers are done for good: stop the sidecars, the last one first."""
        for c in reversed((pod.get("spec") or {}).get("initContainers") or []):
            inst = by_name.get(c["name"]) or []
            if is_restartable_init(c) and inst and inst[-1].state == "running":
                await kill_container(
                    self.runtime, pod, c, inst[-1].id, self._grace(pod), sandbox.ip, self._event
                )

    async def _act(
        self,
        pod: dict[str, Any],
        sandbox: SandboxInfo,
        c: dict[str, Any],
        newest: ContainerInfo | None,
        action: Action,
        key: str,
        now: float,
    ) -> str | None:
        """Carry out `action`; the id of the instance it started, if it started one."""
        uid = pod["metadata"]["uid"]
        if action is Action.KILL:
            assert newest is not None
            verdicts = self.probes.verdicts(newest.id)
            kind = "liveness" if verdicts is None or verdicts.started else "startup"  # which probe failed
            probe_grace = (c.get(f"{kind}Probe") or {}).get("terminationGracePeriodSeconds")
            grace = (
                probe_grace
                if probe_grace is not None
                else (pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
            )
            await kill_container(
                self.runtime,
                pod,
                c,
                newest.id,
                float(grace),
                sandbox.ip,
                self._event,
                f"Container {c['name']} failed {kind} probe, will be restarted",
            )
            self.probes.forget({newest.id})
            return None
        if action is Action.WAIT:
            delay = self.backoff.current_delay(key)
            self._waiting[(uid, c["name"])] = (
                "CrashLoopBackOff",
                crash_loop_message(
                    delay,
                    c["name"],
                    pod["metadata"]["name"],
                    pod["metadata"].get("namespace", "default"),
                    uid,
                ),
            )
            self._event(
                pod,
                WARNING,
                "BackOff",
                f"Back-off restarting failed container {c['name']} in pod "
                f"{pod['metadata']['name']}_{pod['metadata'].get('namespace', 'default')}({uid})",
            )
            return None
        if action is Action.RESTART and newest is not None:
            ran_for = max(0.0, (newest.finished_at or now) - (newest.started_at or now))
            self.backoff.failed(key, now, ran_for)
            self.probes.forget({newest.id})
        if action in (Action.START, Action.RESTART):
            restarts = (restart_count(newest) + 1) if newest is not None else 0
            return await self._start(pod, sandbox, c, restarts)
        return None

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
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api import jsonutil
from api.errors import ApiError
from api.events import NORMAL, WARNING, EventRecorder
from api.podstatus import is_restartable_init
from api.protocol import ApiClient
from api.shapes import PodStatus
from kubelet import admission, ephemeral, localstorage, volumes
from kubelet.containerconfig import (
    CONTAINER_NAME,
    PID_POD,
    POD_NAME,
    POD_NAMESPACE,
    POD_UID,
    RESTART_COUNT,
    container_config,
    host_ports,
    kernel_hostname,
    pid_namespace,
    pid_target,
    refuse_runtime_handler,
    refuse_user_namespace,
)
from kubelet.decisions import (
    Action,
    container_action,
    init_action,
    init_done,
    regular_containers_finished,
)
from kubelet.dns.podconfig import CLUSTER_DOMAIN, HOST_RESOLV_CONF, PodDNS
from kubelet.hooks import Deletions, kill_container, run_handler
from kubelet.images import PullError, ensure_image
from kubelet.instances import container_views, instance, iso, newest_by_name, restart_count
from kubelet.podfiles import DISK, PodFiles, pod_dir
from kubelet.podobjects import ContainerConfigError, ObjectSource
from kubelet.podworkers import DONE
from kubelet.probes import ProbeManager
from kubelet.projection import VolumeError
from kubelet.restart import Backoff, crash_loop_message
from kubelet.status import ContainerView, build_status, disruption_condition, others_conditions
from runtime.containers.logs import read_lines
from runtime.diskusage import usage_bytes
from runtime.interface import ContainerInfo, Runtime, SandboxConfig, SandboxInfo

log = logging.getLogger(__name__)

__all__ = [
    "CONTAINER_NAME",
    "POD_NAME",
    "POD_NAMESPACE",
    "POD_UID",
    "RESTART_COUNT",
    "PodSyncer",
    "SyncContext",
    "newest_by_name",
]

# periodic re-sync of a healthy pod: kubelet's --sync-frequency default. What changes in between
# wakes the pod's worker itself (its API object, a container exit seen by the relist, a probe, a
# ConfigMap or Secret it uses): the period only bounds what nothing announces.
RESYNC = 60.0
FALLBACK_LINES, FALLBACK_BYTES = 80, 2048  # the log's end kube uses as a fallback message
DEADLINE_EXCEEDED = "DeadlineExceeded"
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"
RESYNC_JITTER = 0.5  # kubelet's workerResyncIntervalJitterFactor: each pod waits [60, 90) s


def resync_delay(next_sync: float) -> float:
    """The delay a sync asks for, the periodic one spread as kubelet's pod workers spread it, so
    that the pods of a node (or of hundreds of hollow nodes) started together do not sync together."""
    if next_sync < RESYNC:
        return max(next_sync, 0.05)
    return next_sync * (1 + RESYNC_JITTER * random.random())


@dataclass
class SyncContext:
    """What sync_pod needs besides the pod: the node and the cluster's services."""

    node_name: str
    host_ip: str
    data_dir: Path
    services: Callable[[str], list[dict[str, Any]]]  # namespace -> its services
    dns_servers: list[str]
    cluster_domain: str = CLUSTER_DOMAIN
    resolv_conf: str = HOST_RESOLV_CONF  # the node's resolv.conf, for dnsPolicy Default
    files: PodFiles = DISK  # where volume and DNS files go (in memory on a hollow node)


class PodSyncer:
    def __init__(
        self,
        runtime: Runtime,
        client: ApiClient,
        ctx: SyncContext,
        probes: ProbeManager,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
        recorder: EventRecorder | None = None,
    ) -> None:
        self.runtime = runtime
        self.recorder = recorder
        self.client = client
        self.ctx = ctx
        self.probes = probes
        self.backoff = backoff or Backoff()
        self.clock = clock
        self._last_status: dict[str, PodStatus] = {}
        self._waiting: dict[tuple[str, str], tuple[str, str]] = {}  # (uid, name) -> (reason, message)
        self._messages: dict[str, str] = {}  # exited container id -> its termination message
        self._deleting = Deletions()
        self.objects = ObjectSource(client)  # the ConfigMaps and Secrets pods use, shared by the node's pods
        # told what a sync has just seen of its pod's containers (the kubelet's PLEG record)
        self.on_observed: Callable[[str, list[ContainerInfo]], None] | None = None

    def _event(self, pod: dict[str, Any], type_: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.record(pod, type_, reason, message)

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
        except _PodNotReady as e:
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

    async def _pull_secrets(self, pod: dict[str, Any]) -> list[dict[str, Any]]:
        """The pod's imagePullSecrets that exist; the missing ones are a warning, as in kubelet."""
        names = [
            r.get("name")
            for r in (pod.get("spec") or {}).get("imagePullSecrets") or []
            if isinstance(r, dict)
        ]
        if not names:
            return []
        objects = await self.objects.fetch(pod)
        found = [s for n in names if (s := objects.get("secrets", str(n))) is not None]
        if len(found) < len(names):
            self._event(
                pod,
                WARNING,
                "FailedToRetrieveImagePullSecret",
                "Unable to retrieve some image pull secrets ("
                + ", ".join(str(n) for n in names if objects.get("secrets", str(n)) is None)
                + "); attempting to pull the image may not succeed.",
            )
        return found

    async def _refresh_volumes(
        self, pod: dict[str, Any], sandbox: SandboxInfo, containers: list[ContainerInfo]
    ) -> None:
        """Write the pod's configMap/secret/downwardAPI/projected files as their objects are now (an
        update swaps them atomically). A volume that cannot be made keeps a new pod ContainerCreating;
        running containers keep the files they have, as kubelet does."""
        try:
            objects = await self.objects.fetch(pod)
            args = (pod, self.ctx.data_dir, objects, sandbox.ip or "", self.ctx.host_ip, self.ctx.files)
            if self.ctx.files.blocking:
                await asyncio.to_thread(volumes.setup_volumes, *args)
            else:
                volumes.setup_volumes(*args)
        except VolumeError as e:
            self._event(pod, WARNING, "FailedMount", str(e))
            if not any(c.state == "running" for c in containers):
                raise _PodNotReady(str(e), 2.0, "ContainerCreating") from e

    def _grace(self, pod: dict[str, Any]) -> float:
        g = pod["metadata"].get("deletionGracePeriodSeconds")
        if g is None:
            g = (pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        return float(g)

    async def _new_sandbox(self, pod: dict[str, Any], stale: list[ContainerInfo]) -> SandboxInfo:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        specs = {c["name"]: c for c in spec.get("containers") or []}
        for c in stale:  # containers of a vanished sandbox cannot rejoin a new one
            await self._remove_container(
                c, self._grace(pod), specs.get(c.labels.get(CONTAINER_NAME, "")), pod
            )
        for s in await self.runtime.list_sandboxes():  # a dead one is stopped (its address freed),
            if s.config.uid == meta["uid"]:  # as kube's StopPodSandbox before the next one is made
                await self.runtime.stop_sandbox(s.id)
        try:
            refuse_user_namespace(spec)
            refuse_runtime_handler(await self._runtime_handler(spec))
            hostname = kernel_hostname(pod, self.ctx.cluster_domain)
        except ContainerConfigError as e:  # kube fails the sandbox: the pod waits, ContainerCreating
            self._event(pod, WARNING, "FailedCreatePodSandBox", f"Failed to create pod sandbox: {e}")
            raise _PodNotReady(f"sandbox: {e}", 2.0, "ContainerCreating") from e
        cfg = SandboxConfig(
            name=meta["name"],
            namespace=meta.get("namespace", "default"),
            uid=meta["uid"],
            hostname=hostname,
            labels={
                POD_UID: meta["uid"],
                POD_NAME: meta["name"],
                POD_NAMESPACE: meta.get("namespace", "default"),
            },
            host_network=bool(spec.get("hostNetwork")),
            host_ipc=bool(spec.get("hostIPC")),
            share_pid=pid_namespace(spec) == PID_POD,  # its containers' processes in one namespace
            host_ports=host_ports(spec),
            cgroup_parent=f"/kubepods/pod{meta['uid']}",
            dns_servers=list(self.ctx.dns_servers),
            dns_searches=[
                f"{meta.get('namespace', 'default')}.svc.cluster.local",
                "svc.cluster.local",
                "cluster.local",
            ],
        )
        try:
            return await self.runtime.run_sandbox(cfg)
        except Exception as e:
            raise _PodNotReady(f"sandbox: {e}", 2.0, "ContainerCreating") from e

    async def _runtime_handler(self, spec: dict[str, Any]) -> str:
        """kube's LookupRuntimeHandler: the handler of the pod's RuntimeClass, "" without one. The
        class is read when a sandbox is made (rarely; kube keeps an informer for it); one deleted
        since the pod was admitted fails the sandbox in the words of kube's lister."""
        name = spec.get("runtimeClassName")
        if not isinstance(name, str) or not name:
            return ""
        try:
            rc = await self.client.get("runtimeclasses", name)
        except ApiError as e:
            if e.code == 404:
                raise ContainerConfigError(f'runtimeclass.node.k8s.io "{name}" not found') from e
            raise ContainerConfigError(f"failed to lookup RuntimeClass {name}: {e}") from e
        return str(rc.get("handler") or "")

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
            except _PodNotReady as e:
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

    async def _start(
        self,
        pod: dict[str, Any],
        sandbox: SandboxInfo,
        c: dict[str, Any],
        restarts: int,
        target: str | None = "",
    ) -> str:
        """Pull, create and start one container. `target` is the instance whose process
        namespace an ephemeral container joins ("" for its own; None when its target does not run,
        which fails as a config error after the pull, where kube's container config finds it)."""
        uid, name = pod["metadata"]["uid"], c["name"]
        pull_key = f"{uid}/{name}/pull"
        now = self.clock()
        if self.backoff.remaining(pull_key, now) > 0:
            self._waiting[(uid, name)] = ("ImagePullBackOff", f'Back-off pulling image "{c["image"]}"')
            self._event(pod, NORMAL, "BackOff", f'Back-off pulling image "{c["image"]}"')
            self._event(pod, WARNING, "Failed", "Error: ImagePullBackOff")
            raise _PodNotReady("image pull back-off", self.backoff.remaining(pull_key, now))
        try:
            image = await ensure_image(
                self.runtime, pod, c, self._event, self.clock, await self._pull_secrets(pod)
            )
        except PullError as e:
            if e.reason == "ErrImagePull":  # a missing image under Never is not retried faster or slower
                self.backoff.failed(pull_key, now)
            self._waiting[(uid, name)] = (e.reason, str(e))
            # the next sync comes half-way through the back-off and reports ImagePullBackOff, the
            # one after pulls again: ErrImagePull and ImagePullBackOff alternate, as they do when
            # the kubelet's pod-worker retry lands inside its image back-off
            remaining = self.backoff.remaining(pull_key, now)
            raise _PodNotReady(f"pull {c['image']}: {e}", remaining / 2 if remaining else RESYNC) from e
        self.backoff.forget(pull_key)
        try:
            if target is None:
                raise ContainerConfigError(ephemeral.target_missing(c))
            objects = await self.objects.fetch(pod)
            cfg = container_config(
                pod,
                c,
                sandbox,
                restarts,
                self.ctx.data_dir,
                self.ctx.host_ip,
                self.ctx.services,
                objects,
                self.ctx.files,
                str(image.config.get("User") or ""),
            )
            # an ephemeral container's target's process namespace, where the pod's are apart
            cfg.pid_target = pid_target(pod.get("spec") or {}, target)
            cfg.mounts += PodDNS(
                self.ctx.dns_servers, self.ctx.cluster_domain, self.ctx.resolv_conf
            ).etc_mounts(
                pod, sandbox.ip, self.ctx.data_dir, self.ctx.files
            )  # the pod's resolv.conf and hosts, over the sandbox's
            cid = await self.runtime.create_container(sandbox.id, cfg)
            self._event(pod, NORMAL, "Created", f"Created container {name}")
            await self.runtime.start_container(cid)
            self._event(pod, NORMAL, "Started", f"Started container {name}")
        except ContainerConfigError as e:  # kubelet retries these at every sync, without back-off
            self._waiting[(uid, name)] = ("CreateContainerConfigError", str(e))
            self._event(pod, WARNING, "Failed", f"Error: {e}")
            raise _PodNotReady(f"start {name}: {e}", 2.0) from e
        except VolumeError as e:
            self._event(pod, WARNING, "FailedMount", str(e))
            raise _PodNotReady(f"start {name}: {e}", 2.0, "ContainerCreating") from e
        except Exception as e:
            self.backoff.failed(f"{uid}/{name}", now)
            self._waiting[(uid, name)] = ("CreateContainerError", str(e))
            self._event(pod, WARNING, "Failed", f"Error: {e}")
            raise _PodNotReady(f"start {name}: {e}", 1.0) from e
        self._waiting.pop((uid, name), None)
        hook = (c.get("lifecycle") or {}).get("postStart")
        if hook:
            await self._post_start(pod, c, cid, sandbox.ip, hook)
        return cid

    async def _post_start(
        self, pod: dict[str, Any], c: dict[str, Any], cid: str, pod_ip: str, hook: dict[str, Any]
    ) -> None:
        """Runs before the container is first reported (the status is written after this sync), so it
        is not Running until the hook is done. A failure kills it; its restart policy decides the rest.
        A deletion of the pod cuts the hook short: the deletion's sync kills the container."""
        done, failure = await self._deleting.unless_deleted(
            pod["metadata"]["uid"], run_handler(self.runtime, hook, pod, c, cid, pod_ip)
        )
        if done and failure:
            self._event(pod, WARNING, "FailedPostStartHook", failure)
            await kill_container(
                self.runtime, pod, c, cid, self._grace(pod), pod_ip, self._event, "FailedPostStartHook"
            )
            self.probes.forget({cid})

    def pod_deleting(self, uid: str) -> None:
        """The pod has a deletionTimestamp: a postStart hook still running gives up (called by the informer
        handler, while the pod's worker may be busy in that hook)."""
        self._deleting.seen(uid)

    # --- status ------------------------------------------------------------------------
    def views(
        self,
        pod: dict[str, Any],
        containers: list[ContainerInfo],
        specs: list[dict[str, Any]],
        sandbox: SandboxInfo | None,
        probed: bool = True,
    ) -> list[ContainerView]:
        uid, ip = pod["metadata"]["uid"], sandbox.ip if sandbox else ""
        ensure = self.probes.ensure
        probe = (lambda c, cid: ensure(uid, c, cid, ip)) if probed else (lambda c, cid: ephemeral.NotProbed)
        views = container_views(uid, containers, specs, self._waiting, probe)
        by_id = {c.id: c for c in containers}
        for v, spec in zip(views, specs, strict=True):
            for ended in (v.terminated, v.last_terminated):
                if ended is not None and ended.container_id in by_id:
                    ended.message = self._termination_message(
                        uid, spec, by_id[ended.container_id], ended.exit_code
                    )
        return views

    def _termination_message(self, uid: str, spec: dict[str, Any], c: ContainerInfo, exit_code: int) -> str:
        """What an exited container left at its terminationMessagePath, else, under
        FallbackToLogsOnError after a failure, the end of its log (kube's 80 lines, 2048 bytes).
        Read once per instance: the container is gone, its message cannot change."""
        known = self._messages.get(c.id)
        if known is not None:
            return known
        message = ""
        if spec.get("terminationMessagePath"):
            message = self.ctx.files.termination_message(
                self.ctx.data_dir, uid, spec["name"], restart_count(c)
            )
        fallback = spec.get("terminationMessagePolicy") == "FallbackToLogsOnError"
        if not message and exit_code != 0 and fallback and c.log_path:
            lines, _ = read_lines(c.log_path, FALLBACK_LINES)
            message = b"".join(ln.text for ln in lines)[-FALLBACK_BYTES:].decode(errors="replace")
        self._messages[c.id] = message
        return message

    async def _report(
        self,
        pod: dict[str, Any],
        sandbox: SandboxInfo | None,
        containers: list[ContainerInfo],
        failed: tuple[str, str] | None = None,
    ) -> None:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        uid = meta["uid"]
        views = self.views(pod, containers, list(spec.get("containers") or []), sandbox)
        init_views = self.views(pod, containers, list(spec.get("initContainers") or []), sandbox)
        # the status this kubelet last wrote is the one conditions' lastTransitionTime carries on
        # from, as the kubelet's status manager keeps its own copy: the informer's may not have
        # seen that write yet, and judged against it every sync would "change" a condition anew
        last = self._last_status.get(uid)
        old = last if last is not None else pod.get("status") or {}
        start = old.get("startTime") or (iso(sandbox.created_at) if sandbox else jsonutil.now_str())
        others = others_conditions(pod.get("status") or {})
        status = build_status(
            {"spec": spec, "status": old},
            views,
            init_views,
            sandbox.ip if sandbox else "",
            self.ctx.host_ip,
            start,
            jsonutil.now_str(),
            others + disruption_condition(failed, others, old),
            failed,
            # most pods have no ephemeral containers: no views to make for them
            ephemeral.statuses(self.views(pod, containers, specs, sandbox, probed=False), old)
            if (specs := ephemeral.specs(pod))
            else [],
        )
        if self._last_status.get(uid) == status:
            return
        try:
            await self.client.patch(
                "pods",
                meta["name"],
                {"status": status},
                namespace=meta.get("namespace"),
                subresource="status",
            )
            self._last_status[uid] = status
        except ApiError as e:
            if e.code != 404:
                raise

    # --- teardown ----------------------------------------------------------------------

    async def _remove_container(
        self,
        c: ContainerInfo,
        grace: float,
        spec: dict[str, Any] | None = None,
        pod: dict[str, Any] | None = None,
        pod_ip: str = "",
    ) -> None:
        if c.state == "running":
            await kill_container(self.runtime, pod, spec, c.id, grace, pod_ip, self._event)
        await self.runtime.remove_container(c.id)
        self.probes.forget({c.id})
        self._messages.pop(c.id, None)
        uid, name = c.labels.get(POD_UID), c.labels.get(CONTAINER_NAME)
        if uid and name:  # its message is reported no more: its file goes with it (an unlink, no thread)
            self.ctx.files.remove_termination_log(self.ctx.data_dir, uid, name, restart_count(c))

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


class _PodNotReady(Exception):
    def __init__(self, message: str, retry: float, reason: str = "") -> None:
        super().__init__(message)
        self.retry = retry
        self.reason = reason

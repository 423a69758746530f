"""What a pod needs before any of its containers: its sandbox, and its volumes' files.

A sandbox is made when none is ready (the containers of a vanished one cannot rejoin a new one, so
they go first), after the refusals kube makes at that point (user namespaces, a RuntimeClass
whose handler this runtime lacks or that has been deleted since admission). The configMap, secret,
downwardAPI and projected volumes are written at every sync of a pod that has them, so an update
of their objects reaches the files. Either failing keeps the pod ContainerCreating.
"""

from __future__ import annotations

import asyncio
from typing import Any

from api.errors import ApiError
from api.events import WARNING
from kubelet import volumes
from kubelet.containerconfig import (
    CONTAINER_NAME,
    PID_POD,
    POD_NAME,
    POD_NAMESPACE,
    POD_UID,
    host_ports,
    kernel_hostname,
    pid_namespace,
    refuse_runtime_handler,
    refuse_user_namespace,
)
from kubelet.podobjects import ContainerConfigError
from kubelet.projection import VolumeError
from kubelet.syncstate import PodNotReady, SyncState
from runtime.interface import ContainerInfo, SandboxConfig, SandboxInfo


class PodSetup(SyncState):
    """The sandbox and volume steps of `PodSyncer.sync`."""

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
                raise PodNotReady(str(e), 2.0, "ContainerCreating") from e

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
            raise PodNotReady(f"sandbox: {e}", 2.0, "ContainerCreating") from e
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
            raise PodNotReady(f"sandbox: {e}", 2.0, "ContainerCreating") from e

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

"""The kubelet's Node: what it registers, how it heartbeats, what it reports.

Registration creates the Node with capacity read from the machine (cpu, memory, pods=110) and
all ten `nodeInfo` fields the Python client insists on; a Node that exists already (a restart)
is adopted, never recreated, so its podCIDR and taints survive. Liveness is the Lease in
`kube-node-lease` named after the node, renewed every `lease_renew` seconds (the node lifecycle
controller reads it); the Node's status (conditions with a fresh `lastHeartbeatTime`) is
posted at least every `status_interval` (a minute). kube's kubelet reports an unchanged status
every 5 minutes only because it compares with the stored Node every 10 s and posts at once when
they differ (a node the lifecycle controller marked NotReady is Ready again within seconds);
this kubelet does not read its Node back, so the minute bounds how long such a node stays marked.

A real node also gets its CSINode at registration (empty: no CSI driver registers with this kubelet)
owned by its Node, as kube's kubelet makes it; hollow nodes skip it, keeping their cost per node.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from api import jsonutil
from api.errors import ApiError

log = logging.getLogger(__name__)

KUBELET_VERSION = "v1.30.0-kubelite"
LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION = 40


class NodeClient(Protocol):
    async def get(
        self, r: Any, name: str, namespace: str | None = None, subresource: str | None = None
    ) -> Any: ...
    async def create(self, r: Any, obj: dict[str, Any], namespace: str | None = None, **kw: Any) -> Any: ...
    async def update(self, r: Any, obj: dict[str, Any], namespace: str | None = None, **kw: Any) -> Any: ...
    async def patch(
        self, r: Any, name: str, body: Any, content_type: str = ..., namespace: str | None = None, **kw: Any
    ) -> Any: ...
    def watch(self, r: Any, namespace: str | None = None, **kw: Any) -> AsyncIterator[dict[str, Any]]: ...


@dataclass
class MachineInfo:
    cpus: int
    memory_bytes: int
    machine_id: str
    boot_id: str
    kernel: str
    os_image: str
    arch: str


def read_machine() -> MachineInfo:
    def read(path: str, default: str = "") -> str:
        try:
            return Path(path).read_text().strip()
        except OSError:
            return default

    mem_kib = 0
    for line in read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    os_image = "Linux"
    for line in read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            os_image = line.split("=", 1)[1].strip('"')
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return MachineInfo(
        os.cpu_count() or 1,
        mem_kib * 1024,
        read("/etc/machine-id", "kubelite"),
        read("/proc/sys/kernel/random/boot_id"),
        platform.release(),
        os_image,
        arch,
    )


def node_conditions(
    now: str, ready: bool = True, since: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The four conditions the kubelet reports; `since` keeps transition times of unchanged ones."""
    since = since or {}
    specs = [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        (
            "Ready",
            "True" if ready else "False",
            "KubeletReady" if ready else "KubeletNotReady",
            "kubelet is posting ready status" if ready else "runtime is not ready",
        ),
    ]
    return [
        {
            "type": t,
            "status": s,
            "reason": r,
            "message": m,
            "lastHeartbeatTime": now,
            "lastTransitionTime": since.get(f"{t}={s}", now),
        }
        for t, s, r, m in specs
    ]


def node_object(
    name: str,
    node_ip: str,
    machine: MachineInfo,
    runtime_version: str,
    kubelet_port: int,
    labels: dict[str, str] | None = None,
    now: str | None = None,
) -> dict[str, Any]:
    now = now or jsonutil.now_str()
    capacity = {
        "cpu": str(machine.cpus),
        "memory": f"{machine.memory_bytes // 1024}Ki",
        "pods": "110",
        "ephemeral-storage": "100Gi",
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": machine.arch,
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": machine.arch,
                **(labels or {}),
            },
        },
        "spec": {},
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": node_conditions(now),
            "addresses": [{"type": "InternalIP", "address": node_ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet_port}},
            "nodeInfo": {
                "machineID": machine.machine_id,
                "systemUUID": machine.machine_id,
                "bootID": machine.boot_id,
                "kernelVersion": machine.kernel,
                "osImage": machine.os_image,
                "containerRuntimeVersion": runtime_version,
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux",
                "architecture": machine.arch,
            },
        },
    }


def lease_object(name: str, now_micro: str, holder: str | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": LEASE_NAMESPACE},
        "spec": {
            "holderIdentity": holder or name,
            "leaseDurationSeconds": LEASE_DURATION,
            "renewTime": now_micro,
        },
    }


def csi_node_object(node: dict[str, Any]) -> dict[str, Any]:
    """A node's CSINode as kube's kubelet first writes it: named after the node, owned by it, no drivers."""
    meta = node.get("metadata") or {}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "CSINode",
        "metadata": {
            "name": meta.get("name"),
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "Node", "name": meta.get("name"), "uid": meta.get("uid")}
            ],
        },
        "spec": {"drivers": []},
    }


class NodeAgent:
    """Registers the Node, then keeps its Lease and status fresh until cancelled."""

    def __init__(
        self,
        client: NodeClient,
        node: dict[str, Any],
        lease_renew: float = 10.0,
        status_interval: float = 60.0,
        csi_node: bool = False,
    ) -> None:
        self.client = client
        self.node = node
        self.name = node["metadata"]["name"]
        self.lease_renew = lease_renew
        self.status_interval = status_interval
        self.registered = asyncio.Event()
        self.pod_cidr = ""
        self._lease: dict[str, Any] | None = None  # the lease as last written
        self.csi_node = csi_node  # make the node's CSINode at registration (real nodes; not hollow ones)

    async def register(self) -> dict[str, Any]:
        try:
            stored = await self.client.create("nodes", self.node)
        except ApiError as e:
            if e.code != 409:
                raise
            stored = await self.client.get("nodes", self.name)
            await self.post_status()
        self.pod_cidr = (stored.get("spec") or {}).get("podCIDR", "")
        if self.csi_node:
            await self.ensure_csi_node(stored)
        self.registered.set()
        return stored

    async def ensure_csi_node(self, node: dict[str, Any]) -> None:
        """The node's CSINode, made once if missing (kube's nodeinfomanager at kubelet start): no
        drivers (no plugin ever registers here) and the Node as its owner, so the garbage collector
        deletes it with the Node. A failure is logged, never fatal: nothing here reads it."""
        try:
            await self.client.get("csinodes", self.name)
            return
        except ApiError as e:
            if e.code != 404:
                log.warning("node %s: reading its CSINode failed: %s", self.name, e)
                return
        try:
            await self.client.create("csinodes", csi_node_object(node))
        except ApiError as e:
            if e.code != 409:
                log.warning("node %s: creating its CSINode failed: %s", self.name, e)

    async def wait_pod_cidr(self, timeout: float) -> str:
        """The podCIDR the node IPAM controller assigns, by watching this Node ("" on timeout)."""

        async def watch() -> None:
            async for ev in self.client.watch("nodes", field_selector=f"metadata.name={self.name}"):
                cidr = ((ev.get("object") or {}).get("spec") or {}).get("podCIDR", "")
                if cidr:
                    self.pod_cidr = cidr
                    return

        if not self.pod_cidr:
            try:
                await asyncio.wait_for(watch(), timeout)
            except TimeoutError:
                pass
        return self.pod_cidr

    async def post_status(self) -> None:
        now = jsonutil.now_str()
        status = dict(self.node["status"], conditions=node_conditions(now))
        await self.client.patch("nodes", self.name, {"status": status}, subresource="status")

    async def renew_lease(self) -> None:
        """One PUT of the lease last written (kubelet's lease controller keeps it): a GET, or a
        create, only when there is none yet or that write failed (a conflict, the lease deleted)."""
        lease = lease_object(self.name, jsonutil.format_micro_time(jsonutil.now()))
        held, self._lease = self._lease, None
        if held is not None:
            held["spec"] = lease["spec"]
            try:
                self._lease = await self.client.update("leases", held, LEASE_NAMESPACE)
                return
            except ApiError as e:
                if e.code not in (404, 409):
                    raise
        try:
            current = await self.client.get("leases", self.name, LEASE_NAMESPACE)
        except ApiError as e:
            if e.code != 404:
                raise
            self._lease = await self.client.create("leases", lease, LEASE_NAMESPACE)
            return
        current["spec"] = lease["spec"]
        self._lease = await self.client.update("leases", current, LEASE_NAMESPACE)

    async def run(self) -> None:
        """Heartbeat forever: the lease every `lease_renew` s, the status every `status_interval` s."""
        loop = asyncio.get_running_loop()
        next_status = loop.time() + self.status_interval
        while True:
            try:
                await self.renew_lease()
                if loop.time() >= next_status:
                    await self.post_status()
                    next_status = loop.time() + self.status_interval
            except (ApiError, OSError) as e:
                log.warning("node %s heartbeat failed: %s", self.name, e)
            except Exception as e:  # a transport error must not end the heartbeat
                log.warning("node %s heartbeat failed: %r", self.name, e)
            await asyncio.sleep(self.lease_renew)


def default_node_name() -> str:
    return socket.gethostname().lower()

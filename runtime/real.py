"""RealRuntime: the `Runtime` Protocol over runc/conmon containers, pod network sandboxes and the
image store.

A sandbox is a network namespace (runtime.network) + its /etc/hosts, resolv.conf and hostname +
an IPC namespace and /dev/shm (podipc) + a state dir `<root>/sandboxes/<id>/`; there is no pause
container: every container of the pod joins the namespaces by path and bind-mounts the pod's etc
files. Only a sandbox that shares one process namespace among its containers has a process, its
pause (podpid: a PID namespace dies with its PID 1). All state is on disk (sandbox
records, container records, conmon exit files), so a restarted kubelet's `list_sandboxes()` /
`list_containers()` adopts what is still running. Blocking kernel work runs in threads.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from runtime import cgroupdirs, podipc, podpid
from runtime.containers import ids
from runtime.containers.errors import ContainerError, NoSuchContainer
from runtime.containers.execs import RuncExecSession
from runtime.containers.service import Containers, RunRequest
from runtime.containers.store import Record
from runtime.diskusage import usage_bytes
from runtime.interface import (
    ContainerConfig,
    ContainerInfo,
    ExecResult,
    ExecSession,
    ImageInfo,
    SandboxConfig,
    SandboxInfo,
)

if TYPE_CHECKING:
    from runtime.images import ImageStore
    from runtime.network import Network

K8S_NAME = "k8s_name"


class NoSuchSandbox(ContainerError):
    pass


class RealRuntime:
    def __init__(self, root: Path, network: Network | None = None, image_root: Path | None = None) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._net = network
        self.containers = Containers(self.root, network=lambda: self.network, images=self._image_store)
        self.image_root = Path(image_root) if image_root else self.root
        self.sandbox_dir = self.root / "sandboxes"
        self._lock = threading.Lock()  # sandbox network setup/teardown, one at a time

    @property
    def network(self) -> Network:
        if self._net is None:
            from runtime.containers.service import default_network

            self._net = default_network(self.root)
        return self._net

    def _image_store(self) -> ImageStore:
        from runtime.images import ImageStore

        return ImageStore(self.image_root)

    # ---- sandboxes
    def _sandbox_path(self, sandbox_id: str) -> Path:
        return self.sandbox_dir / sandbox_id / "sandbox.json"

    def _load_sandbox(self, sandbox_id: str) -> SandboxInfo:
        try:
            data = json.loads(self._sandbox_path(sandbox_id).read_text())
        except (OSError, ValueError):
            raise NoSuchSandbox(f"no such sandbox: {sandbox_id}") from None
        data["config"] = SandboxConfig(**data["config"])
        info = SandboxInfo(**data)
        if info.state == "ready" and info.netns_path and not os.path.exists(info.netns_path):
            info.state = "notready"  # the namespace is gone (a reboot, someone's `ip netns del`)
        pod_ipc = podipc.ipc_path(str(self.sandbox_dir / sandbox_id))
        if info.state == "ready" and os.path.exists(pod_ipc) and not os.path.ismount(pod_ipc):
            info.state = "notready"  # likewise its IPC namespace (kept by a mount a reboot undoes)
        if (
            info.state == "ready"
            and info.config.share_pid
            and not podpid.running(str(self.sandbox_dir / sandbox_id))
        ):
            info.state = "notready"  # its pause is gone, and the pod's processes with its namespace
        return info

    def _save_sandbox(self, info: SandboxInfo) -> None:
        path = self._sandbox_path(info.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(info)))
        os.replace(tmp, path)

    def _run_sandbox(self, config: SandboxConfig) -> SandboxInfo:
        from runtime.network import write_etc_files

        sid = ids.new_id()
        info = SandboxInfo(
            id=sid, config=config, ip="", netns_path="", state="notready", created_at=time.time()
        )
        self._save_sandbox(info)
        try:
            if not config.host_ipc:
                podipc.create(str(self.sandbox_dir / sid))
            if not config.host_network:
                with self._lock:
                    net = self.network.setup(sid, "bridge")
                info.ip, info.netns_path = net.ip, net.netns_path
                if config.host_ports:  # a pod's hostPorts: node address:port -> pod (CNI's portmap)
                    from runtime.network.interface import PortMapping

                    ports = [PortMapping(hp, cp, proto, ip) for ip, hp, cp, proto in config.host_ports]
                    with self._lock:
                        self.network.publish(sid, ports)
            if config.share_pid:
                where = str(self.sandbox_dir / sid)
                ipc = "" if config.host_ipc else podipc.ipc_path(where)
                podpid.start(where, self._cgroup_parent(config), info.netns_path, ipc)
            write_etc_files(
                self.sandbox_dir / sid / "etc",
                config.hostname or config.name,
                info.ip,
                extra_hosts=config.extra_hosts,
                dns_servers=config.dns_servers,
                searches=config.dns_searches,
            )
            info.state = "ready"
            self._save_sandbox(info)
            return info
        except BaseException:
            self._remove_sandbox(sid)
            raise

    @staticmethod
    def _cgroup_parent(config: SandboxConfig) -> str:
        return config.cgroup_parent or f"/kubelite/pod{config.uid}"

    async def run_sandbox(self, config: SandboxConfig) -> SandboxInfo:
        return await asyncio.to_thread(self._run_sandbox, config)

    def _sandbox_records(self, sandbox_id: str) -> list[Record]:
        return [r for r in self.containers.store.all() if r.sandbox_id == sandbox_id]

    def _stop_sandbox(self, sandbox_id: str) -> None:
        for rec in self._sandbox_records(sandbox_id):
            self.containers.engine.stop(rec, 0)
        podipc.remove(str(self.sandbox_dir / sandbox_id))  # its 64 MiB shm goes now, as containerd's
        try:
            info = self._load_sandbox(sandbox_id)
        except NoSuchSandbox:
            return
        podpid.stop(str(self.sandbox_dir / sandbox_id), self._cgroup_parent(info.config))
        if not info.config.host_network:
            with self._lock:
                self.network.teardown(sandbox_id)
        info.state = "notready"
        self._save_sandbox(info)

    async def stop_sandbox(self, sandbox_id: str) -> None:
        await asyncio.to_thread(self._stop_sandbox, sandbox_id)

    def _remove_sandbox(self, sandbox_id: str) -> None:
        for rec in self._sandbox_records(sandbox_id):
            self.containers.engine.remove(rec, force=True)
        try:
            config = self._load_sandbox(sandbox_id).config
            host, cgroup = config.host_network, self._cgroup_parent(config)
        except NoSuchSandbox:
            host, cgroup = False, ""
        podpid.stop(str(self.sandbox_dir / sandbox_id), cgroup)  # a half-made sandbox's too
        if cgroup:
            cgroupdirs.remove(cgroup)
        if not host:
            with self._lock:
                self.network.teardown(sandbox_id)  # idempotent, also for half-built sandboxes
        podipc.remove(str(self.sandbox_dir / sandbox_id))
        shutil.rmtree(self.sandbox_dir / sandbox_id, ignore_errors=True)

    async def remove_sandbox(self, sandbox_id: str) -> None:
        await asyncio.to_thread(self._remove_sandbox, sandbox_id)

    def _list_sandboxes(self) -> list[SandboxInfo]:
        out = []
        try:
            names = os.listdir(self.sandbox_dir)
        except OSError:
            return []
        for sid in names:
            try:
                out.append(self._load_sandbox(sid))
            except NoSuchSandbox:
                continue
        return out

    async def list_sandboxes(self) -> list[SandboxInfo]:
        return await asyncio.to_thread(self._list_sandboxes)

    # ---- images
    async def pull_image(self, ref: str, auth: tuple[str, str] | None = None) -> ImageInfo:
        """CRI PullImage: always asks the registry (whether to pull is the kubelet's call); the registry
        client checks the manifest digest first and fetches only what changed."""
        from runtime.images.registry import pull

        image = await pull(self._image_store(), ref, credentials=auth)
        return image.info(ref)

    async def image_status(self, ref: str) -> ImageInfo | None:
        image = await asyncio.to_thread(self._image_store().resolve, ref)
        return image.info(ref) if image is not None else None

    # ---- containers
    def _create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        sandbox = self._load_sandbox(sandbox_id)
        files = {
            p: str(self.sandbox_dir / sandbox_id / "etc" / name)
            for p, name in (
                ("/etc/hosts", "hosts"),
                ("/etc/resolv.conf", "resolv.conf"),
                ("/etc/hostname", "hostname"),
            )
        }
        parent = self._cgroup_parent(sandbox.config)
        # hostIPC is the pod's: the sandbox was made without an IPC namespace of its own for it
        ipc, shm = self._ipc_of(sandbox_id, config.host_ipc or sandbox.config.host_ipc)
        req = RunRequest(
            image=config.image,
            name=f"k8s_{config.name}_{sandbox.config.name}_{sandbox.config.namespace}_{ids.new_id()[:8]}"[
                :128
            ],
            command=config.command,
            args=config.args,
            env=dict(config.env),
            working_dir=config.working_dir,
            user=config.user,
            hostname=sandbox.config.hostname or sandbox.config.name,
            tty=config.tty,
            stdin=config.stdin,
            stdin_once=config.stdin_once,
            labels=dict(config.labels),
            mounts=list(config.mounts),
            memory_limit=config.memory_limit,
            cpu_quota_millis=config.cpu_quota_millis,
            cpu_shares=config.cpu_shares,
            pids_limit=config.pids_limit,
            privileged=config.privileged,
            cap_add=list(config.cap_add),
            cap_drop=list(config.cap_drop),
            groups=list(config.groups),
            read_only_rootfs=config.read_only_rootfs,
            no_new_privileges=config.no_new_privileges,
            seccomp_unconfined=config.seccomp_unconfined,
            sysctls=dict(config.sysctls),
            pid=self._pid_of(sandbox_id, config),
            ipc=ipc,
            shm_path=shm,
            net="sandbox",
            netns_path=sandbox.netns_path or "host",
            sandbox_id=sandbox_id,
            etc_files=files,
            cgroup_parent=parent,
            log_path=config.log_path,
        )
        rec = self.containers.create(req)
        rec.config[K8S_NAME] = config.name
        self.containers.store.save(rec)
        return rec.id

    def _pid_of(self, sandbox_id: str, config: ContainerConfig) -> str:
        """The process namespace of a container of the sandbox (RunRequest.pid), in CRI's order:
        the node's (hostPID), the sandbox's (shareProcessNamespace), a target container's (an
        ephemeral container's targetContainerName), else one of its own."""
        if config.host_pid:
            return "host"
        if config.pod_pid:
            return podpid.ns_path(str(self.sandbox_dir / sandbox_id))
        return f"container:{config.pid_target}" if config.pid_target else ""

    def _ipc_of(self, sandbox_id: str, host_ipc: bool) -> tuple[str, str]:
        """(IPC namespace, /dev/shm) for a container of the sandbox: the node's for hostIPC, the
        sandbox's, or for a sandbox made before sandboxes had them, a namespace and a tmpfs of its own
        (so an upgrade does not restart running pods)."""
        if host_ipc:
            return "host", "/dev/shm"
        where = str(self.sandbox_dir / sandbox_id)
        if os.path.exists(podipc.ipc_path(where)):
            return podipc.ipc_path(where), podipc.shm_path(where)
        return "", ""

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        return await asyncio.to_thread(self._create_container, sandbox_id, config)

    def _record(self, container_id: str) -> Record:
        return self.containers.engine.refresh(self.containers.store.load(container_id))

    async def start_container(self, container_id: str) -> None:
        def start() -> None:
            rec = self._record(container_id)
            if rec.state == "exited":
                rec = self.containers.restart_from_exit(rec)
            self.containers.engine.start(rec)

        await asyncio.to_thread(start)

    async def stop_container(self, container_id: str, timeout: float) -> None:
        """CRI StopContainer: idempotent, so a container removed meanwhile (a pod's deletion racing
        its sync) is stopped, not an error; the kubelet treats StopContainer's NotFound so."""

        def stop() -> None:
            try:
                rec = self.containers.store.load(container_id)
            except NoSuchContainer:
                return
            self.containers.engine.stop(rec, timeout)  # which refreshes it first

        await asyncio.to_thread(stop)

    async def remove_container(self, container_id: str) -> None:
        def remove() -> None:
            try:
                rec = self.containers.store.load(container_id)
            except NoSuchContainer:
                return
            self.containers.engine.remove(rec, force=True)

        await asyncio.to_thread(remove)

    @staticmethod
    def info(rec: Record) -> ContainerInfo:
        return ContainerInfo(
            id=rec.id,
            sandbox_id=rec.sandbox_id,
            name=str(rec.config.get(K8S_NAME) or rec.name),
            image=rec.image,
            image_id=rec.image_id,
            labels=dict(rec.labels),
            state=rec.state,
            pid=rec.pid,
            exit_code=rec.exit_code,
            reason=rec.reason,
            created_at=rec.created_at,
            started_at=rec.started_at,
            finished_at=rec.finished_at,
            log_path=rec.log_path,
        )

    async def list_containers(self, labels: Mapping[str, str] | None = None) -> list[ContainerInfo]:
        want = dict(labels or {})
        recs = await asyncio.to_thread(self.containers.engine.list)
        return [
            self.info(r)
            for r in recs
            if r.net_mode == "sandbox" and all(r.labels.get(k) == v for k, v in want.items())
        ]

    async def container_status(self, container_id: str) -> ContainerInfo:
        return self.info(await asyncio.to_thread(self._record, container_id))

    async def container_disk_usage(self, container_id: str) -> int:
        def usage() -> int:
            rec = self.containers.store.load(container_id)
            log = os.path.getsize(rec.log_path) if rec.log_path and os.path.exists(rec.log_path) else 0
            return usage_bytes(os.path.join(self.containers.engine.bundle(container_id), "upper")) + log

        return await asyncio.to_thread(usage)

    async def exec_sync(self, container_id: str, cmd: list[str], timeout: float | None = None) -> ExecResult:
        def run() -> ExecResult:
            code, out, err = self.containers.engine.exec_sync(self._record(container_id), cmd, timeout)
            return ExecResult(code, out, err)

        return await asyncio.to_thread(run)

    async def exec(
        self, container_id: str, cmd: list[str], tty: bool = False, stdin: bool = False
    ) -> ExecSession:
        rec = await asyncio.to_thread(self._record, container_id)
        argv = self.containers.engine.exec_argv(rec, cmd, tty=tty)
        return await RuncExecSession.start(argv, tty=tty, stdin=stdin)

    async def attach(self, container_id: str) -> ExecSession:
        from runtime.containers.attach import AttachSession

        rec = await asyncio.to_thread(self._record, container_id)
        engine = self.containers.engine
        sock = await asyncio.to_thread(engine.attach, rec)
        return AttachSession(sock, lambda cols, rows: engine.resize(rec, cols, rows))

"""The `Runtime` seam (CRI-shaped): what a kubelet needs from a container runtime.

The real implementation (runc under conmon, rtnetlink sandboxes, the image store) and the fake one
for hollow nodes and unit tests both satisfy this Protocol; the kubelet knows only this file.
Everything is keyed by ids the runtime returns; labels carry the caller's own bookkeeping (pod
UID, container name, restart count) so a restarted kubelet can rebuild its view from
`list_sandboxes()` / `list_containers()` alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from runtime.mounts import Mount as Mount  # defined apart for the CLI's start-up; same class


@dataclass
class SandboxConfig:
    name: str  # pod name
    namespace: str
    uid: str  # pod UID: names the network namespace
    hostname: str
    labels: dict[str, str] = field(default_factory=dict)
    host_network: bool = False
    cgroup_parent: str = ""  # e.g. /kubepods/pod<uid>
    dns_servers: list[str] = field(default_factory=list)
    dns_searches: list[str] = field(default_factory=list)
    extra_hosts: dict[str, str] = field(default_factory=dict)
    # the containers' hostPorts, published on the node: (host IP or "", host port, container port, tcp|udp)
    host_ports: list[tuple[str, int, int, str]] = field(default_factory=list)
    host_ipc: bool = False  # the node's IPC namespace and /dev/shm, not one of the pod's own
    # one process namespace for all the pod's containers, whose PID 1 is a pause process of the
    # sandbox (CRI's NamespaceMode POD for pid: shareProcessNamespace); else the sandbox has no process
    share_pid: bool = False


@dataclass
class SandboxInfo:
    id: str
    config: SandboxConfig
    ip: str  # "" for host network
    netns_path: str  # "" for host network
    state: str  # "ready" | "notready"
    created_at: float


@dataclass
class ContainerConfig:
    name: str
    image: str  # a reference already pulled (or an image id)
    command: list[str] | None = None  # overrides the image ENTRYPOINT (k8s `command`)
    args: list[str] | None = None  # overrides the image CMD (k8s `args`)
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str = ""
    user: str = ""  # "uid[:gid]" or a name from the image's /etc/passwd
    tty: bool = False
    stdin: bool = False
    stdin_once: bool = False  # stdin closes when the first attached client detaches (else stays open)
    labels: dict[str, str] = field(default_factory=dict)
    mounts: list[Mount] = field(default_factory=list)
    memory_limit: int | None = None  # bytes
    cpu_quota_millis: int | None = None  # 1000 = one CPU
    cpu_shares: int | None = None
    pids_limit: int | None = None
    privileged: bool = False
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    log_path: str = ""  # CRI log file; the runtime picks one when empty
    groups: list[int] = field(default_factory=list)  # supplementary gids beside the user's own (fsGroup)
    read_only_rootfs: bool = False
    host_pid: bool = False  # the node's process namespace (a pod's hostPID)
    # the sandbox's process namespace (CRI's NamespaceMode POD: a pod's shareProcessNamespace); the
    # sandbox must have been made with share_pid
    pod_pid: bool = False
    # a running container (id) whose process namespace this one joins (CRI's NamespaceMode TARGET:
    # an ephemeral container's targetContainerName)
    pid_target: str = ""
    host_ipc: bool = False  # the node's IPC namespace (hostIPC)
    no_new_privileges: bool = False  # allowPrivilegeEscalation: false (kube sets it only then)
    seccomp_unconfined: bool = False  # seccompProfile Unconfined (else the runtime's default profile)
    sysctls: dict[str, str] = field(default_factory=dict)  # the pod's namespaced sysctls


@dataclass
class ContainerInfo:
    id: str
    sandbox_id: str
    name: str
    image: str
    image_id: str  # sha256:... of the image config
    labels: dict[str, str]
    state: str  # "created" | "running" | "exited" | "unknown"
    pid: int = 0
    exit_code: int | None = None
    reason: str = ""  # e.g. "OOMKilled", "Error", "Completed"
    created_at: float = 0.0
    started_at: float = 0.0
    finished_at: float = 0.0
    log_path: str = ""


@dataclass
class ImageInfo:
    id: str  # sha256:<config digest>
    ref: str  # normalised reference, e.g. docker.io/library/busybox:latest
    digest: str  # manifest digest (repo digest), may be ""
    size: int
    config: Mapping[str, object] = field(default_factory=dict)  # the image config's `config` section


@dataclass
class ExecResult:
    exit_code: int
    stdout: bytes
    stderr: bytes


class ExecSession(Protocol):
    """An interactive exec: write stdin, read (stream, bytes) chunks, resize, wait for the exit code."""

    async def write_stdin(self, data: bytes) -> None: ...

    async def close_stdin(self) -> None: ...

    def output(self) -> AsyncIterator[tuple[int, bytes]]:  # (1=stdout | 2=stderr, data)
        ...

    async def resize(self, cols: int, rows: int) -> None: ...

    async def wait(self) -> int: ...


class Runtime(Protocol):
    # sandboxes
    async def run_sandbox(self, config: SandboxConfig) -> SandboxInfo: ...

    async def stop_sandbox(self, sandbox_id: str) -> None: ...

    async def remove_sandbox(self, sandbox_id: str) -> None:
        """Tear down the netns, veth, address and any mounts; idempotent, also for half-built ones."""

    async def list_sandboxes(self) -> list[SandboxInfo]: ...

    # images
    async def pull_image(self, ref: str, auth: tuple[str, str] | None = None) -> ImageInfo:
        """CRI PullImage; `auth` is (user, password) for the image's registry (a pod's pull secret)."""

    async def image_status(self, ref: str) -> ImageInfo | None: ...

    # containers
    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str: ...

    async def start_container(self, container_id: str) -> None: ...

    async def stop_container(self, container_id: str, timeout: float) -> None:
        """SIGTERM (or the image's StopSignal), wait up to `timeout` seconds, then SIGKILL."""

    async def remove_container(self, container_id: str) -> None: ...

    async def list_containers(self, labels: Mapping[str, str] | None = None) -> list[ContainerInfo]: ...

    async def container_status(self, container_id: str) -> ContainerInfo: ...

    async def container_disk_usage(self, container_id: str) -> int:
        """Bytes the container wrote on the node: its writable layer and its log (what CRI's
        ContainerStats report and the kubelet holds against an ephemeral-storage limit)."""

    async def exec_sync(
        self, container_id: str, cmd: list[str], timeout: float | None = None
    ) -> ExecResult: ...

    async def exec(
        self, container_id: str, cmd: list[str], tty: bool = False, stdin: bool = False
    ) -> ExecSession: ...

    async def attach(self, container_id: str) -> ExecSession:
        """CRI Attach: the running container's own stdout/stderr (its terminal, when it has one)
        and, when it was started with stdin open, its stdin."""

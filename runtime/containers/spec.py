"""OCI runtime spec (config.json) generation: a pure function of the image config and the request.

Assumes runc 1.1 on a hybrid-cgroup host (RUNTIME-FACTS.md): `linux.cgroupsPath` is always set so
runc never nests the cgroup under the caller's; rlimits are clamped to this process's hard limits
(the sandbox lacks CAP_SYS_RESOURCE, so asking for more fails the whole create).
"""

from __future__ import annotations

import resource

from runtime.containers.errors import InvalidConfig
from runtime.containers.seccomp import capability_set, default_profile
from runtime.containers.users import User
from runtime.datarecord import field, record
from runtime.mounts import Mount

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from typing import Any

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

MASKED_PATHS = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

# (type, soft=hard) wanted; clamped to what this process may grant
RLIMITS = (("RLIMIT_NOFILE", resource.RLIMIT_NOFILE, 20000), ("RLIMIT_NPROC", resource.RLIMIT_NPROC, 32768))


@record
class BundleRequest:
    """Everything the OCI config.json of one container is built from."""

    args: list[str]
    env: list[str]
    rootfs: str  # absolute real path of the mounted overlay
    cgroups_path: str  # e.g. /kubelite/<id> or /kubepods/pod<uid>/<name>
    cwd: str = "/"
    user: User = field(default_factory=User)
    hostname: str = ""
    terminal: bool = False
    netns: str = ""  # "" = a new (empty) netns, "host" = the caller's, else a netns path to join
    mounts: list[Mount] = field(default_factory=list)
    etc_files: dict[str, str] = field(default_factory=dict)  # container path -> host file
    memory_limit: int | None = None
    cpu_quota_millis: int | None = None
    cpu_shares: int | None = None
    pids_limit: int | None = None
    privileged: bool = False
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    read_only_rootfs: bool = False
    no_new_privileges: bool = True
    seccomp_unconfined: bool = False
    sysctls: dict[str, str] = field(default_factory=dict)
    host_pid: bool = False  # no pid namespace of its own: the caller's (the node's)
    pid_path: str = ""  # a pid namespace to join (another container's), instead of a new one
    host_ipc: bool = False
    ipc_path: str = ""  # an IPC namespace to join (a pod's sandbox's), instead of a new one
    shm_path: str = ""  # a directory to bind at /dev/shm (a pod's shared tmpfs), instead of a new tmpfs
    annotations: dict[str, str] = field(default_factory=dict)


def resolve_args(
    image_config: dict[str, Any], command: list[str] | None, args: list[str] | None
) -> list[str]:
    """Kubernetes' rule: `command` replaces ENTRYPOINT (and drops CMD), `args` replaces CMD."""
    entrypoint = list(command) if command else list(image_config.get("Entrypoint") or [])
    if command:
        cmd = list(args or [])
    else:
        cmd = list(args) if args else list(image_config.get("Cmd") or [])
    argv = entrypoint + cmd
    if not argv:
        raise InvalidConfig("no command specified: the image has no Entrypoint or Cmd and none was given")
    return argv


def merge_env(image_env: list[str] | None, overrides: dict[str, str], tty: bool = False) -> list[str]:
    env: dict[str, str] = {}
    for item in image_env or [DEFAULT_PATH]:
        key, _, value = item.partition("=")
        env[key] = value
    env.setdefault("PATH", DEFAULT_PATH.partition("=")[2])
    if tty:
        env.setdefault("TERM", "xterm")
    for key, value in overrides.items():
        if not key or "=" in key:
            raise InvalidConfig(f"invalid environment variable name {key!r}")
        env[key] = value
    return [f"{k}={v}" for k, v in env.items()]


def _rlimits() -> list[dict[str, Any]]:
    out = []
    for name, res, want in RLIMITS:
        hard = resource.getrlimit(res)[1]
        value = want if hard == resource.RLIM_INFINITY else min(want, hard)
        out.append({"type": name, "soft": value, "hard": value})
    return out


def _mounts(req: BundleRequest) -> list[dict[str, Any]]:
    ro = [] if req.privileged else ["ro"]
    mounts: list[dict[str, Any]] = [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        },
        {
            "destination": "/dev/shm",
            "type": "bind",
            "source": req.shm_path,
            "options": ["rbind", "nosuid", "noexec", "nodev", "rw"],
        }
        if req.shm_path
        else {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", *ro],
        },
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["nosuid", "noexec", "nodev", "relatime", *ro],
        },
    ]
    for dest, src in sorted(req.etc_files.items()):
        mounts.append({"destination": dest, "type": "bind", "source": src, "options": ["rbind", "rprivate"]})
    for m in req.mounts:
        if not m.container_path.startswith("/"):
            raise InvalidConfig(f"mount destination {m.container_path!r} is not an absolute path")
        if m.tmpfs:
            mounts.append(
                {
                    "destination": m.container_path,
                    "type": "tmpfs",
                    "source": "tmpfs",
                    "options": ["nosuid", "nodev", "mode=1777", *(["ro"] if m.read_only else [])],
                }
            )
        else:
            if not m.host_path.startswith("/"):
                raise InvalidConfig(f"mount source {m.host_path!r} is not an absolute path")
            if m.propagation not in ("rprivate", "rslave", "rshared"):
                raise InvalidConfig(f"mount propagation {m.propagation!r}: want rprivate, rslave or rshared")
            mounts.append(
                {
                    "destination": m.container_path,
                    "type": "bind",
                    "source": m.host_path,
                    "options": [
                        "rbind",
                        m.propagation,
                        "ro" if m.read_only else "rw",
                        *(["rro"] if m.recursive_read_only else []),
                    ],
                }
            )
    return mounts


def _resources(req: BundleRequest) -> dict[str, Any]:
    res: dict[str, Any] = {"devices": [{"allow": req.privileged, "access": "rwm"}]}
    if req.memory_limit is not None:
        if req.memory_limit < 6 * 1024 * 1024:
            raise InvalidConfig("minimum memory limit allowed is 6MB")
        res["memory"] = {"limit": int(req.memory_limit)}
    cpu: dict[str, Any] = {}
    if req.cpu_quota_millis:
        cpu.update(quota=int(req.cpu_quota_millis) * 100, period=100000)
    if req.cpu_shares:
        cpu["shares"] = int(req.cpu_shares)
    if cpu:
        res["cpu"] = cpu
    if req.pids_limit is not None and req.pids_limit > 0:
        res["pids"] = {"limit": int(req.pids_limit)}
    return res


def build_spec(req: BundleRequest) -> dict[str, Any]:
    try:
        caps = capability_set(req.privileged, req.cap_add, req.cap_drop)
    except ValueError as e:
        raise InvalidConfig(str(e)) from None
    joined = {"pid": req.pid_path, "ipc": req.ipc_path}
    namespaces: list[dict[str, str]] = [
        {"type": kind, "path": joined[kind]} if joined.get(kind) else {"type": kind}
        for kind, shared in (("pid", req.host_pid), ("ipc", req.host_ipc), ("uts", False), ("mount", False))
        if not shared
    ]
    if req.netns and req.netns != "host":
        namespaces.append({"type": "network", "path": req.netns})
    elif not req.netns:
        namespaces.append({"type": "network"})
    user: dict[str, Any] = {"uid": req.user.uid, "gid": req.user.gid}
    if req.user.additional_gids:
        user["additionalGids"] = list(req.user.additional_gids)
    linux: dict[str, Any] = {
        "cgroupsPath": req.cgroups_path,
        "resources": _resources(req),
        "namespaces": namespaces,
    }
    if not req.privileged:
        linux["maskedPaths"] = list(MASKED_PATHS)
        linux["readonlyPaths"] = list(READONLY_PATHS)
        if not req.seccomp_unconfined:
            linux["seccomp"] = default_profile()
    if req.sysctls:
        linux["sysctl"] = dict(req.sysctls)
    # a mount that propagates needs the container's root to let it (containerd does the same)
    kinds = {m.propagation for m in req.mounts if not m.tmpfs}
    if "rshared" in kinds:
        linux["rootfsPropagation"] = "rshared"
    elif "rslave" in kinds:
        linux["rootfsPropagation"] = "rslave"
    spec: dict[str, Any] = {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": req.terminal,
            "user": user,
            "args": list(req.args),
            "env": list(req.env),
            "cwd": req.cwd or "/",
            "capabilities": {k: list(caps) for k in ("bounding", "effective", "permitted")},
            "rlimits": _rlimits(),
            "noNewPrivileges": req.no_new_privileges and not req.privileged,
        },
        "root": {"path": req.rootfs, "readonly": req.read_only_rootfs},
        "hostname": req.hostname,
        "mounts": _mounts(req),
        "linux": linux,
    }
    if req.annotations:
        spec["annotations"] = dict(req.annotations)
    return spec

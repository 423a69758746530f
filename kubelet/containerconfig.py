"""What the runtime is asked to create for one container of a pod (pure, apart from volume dirs).

The labels are the kubelet's bookkeeping on the runtime's side (pod UID, names, restart
count): a restarted kubelet rebuilds its whole view from them (`sync.newest_by_name`). The
rest maps the container spec onto the runtime's `ContainerConfig`: command and args (`$(VAR)`
expanded from the env), env (with the downward API and service variables), user, limits,
capabilities, volume mounts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubelet import volumes
from kubelet.env import container_env, expand
from kubelet.podfiles import DISK, PodFiles
from kubelet.podobjects import PodObjects
from runtime.interface import ContainerConfig, SandboxInfo

POD_UID = "io.kubernetes.pod.uid"
POD_NAME = "io.kubernetes.pod.name"
POD_NAMESPACE = "io.kubernetes.pod.namespace"
CONTAINER_NAME = "io.kubernetes.container.name"
RESTART_COUNT = "io.kubernetes.container.restartCount"


def container_config(
    pod: dict[str, Any],
    c: dict[str, Any],
    sandbox: SandboxInfo,
    restarts: int,
    data_dir: Path,
    host_ip: str,
    services: Callable[[str], list[dict[str, Any]]],
    objects: PodObjects | None = None,
    files: PodFiles = DISK,
) -> ContainerConfig:
    """Raises ContainerConfigError (env sources) or VolumeError (volumes) for what cannot be made."""
    meta = pod["metadata"]
    pod_ip = sandbox.ip or host_ip
    vols = volumes.setup_volumes(pod, data_dir, objects, pod_ip, host_ip, files)
    env = container_env(pod, c, pod_ip, host_ip, services(meta.get("namespace", "default")), objects)
    res = c.get("resources") or {}
    limits, requests = res.get("limits") or {}, res.get("requests") or {}
    sec = c.get("securityContext") or {}
    caps = sec.get("capabilities") or {}
    user = ""
    if sec.get("runAsUser") is not None:
        user = str(sec["runAsUser"]) + (f":{sec['runAsGroup']}" if sec.get("runAsGroup") is not None else "")
    return ContainerConfig(
        name=c["name"],
        image=c["image"],
        command=_expanded(c.get("command"), env),
        args=_expanded(c.get("args"), env),
        env=env,
        working_dir=c.get("workingDir", ""),
        user=user,
        tty=bool(c.get("tty")),
        stdin=bool(c.get("stdin")),
        labels={
            POD_UID: meta["uid"],
            POD_NAME: meta["name"],
            POD_NAMESPACE: meta.get("namespace", "default"),
            CONTAINER_NAME: c["name"],
            RESTART_COUNT: str(restarts),
        },
        mounts=volumes.container_mounts(c, vols, volumes.written_volumes(pod), env),
        memory_limit=_bytes(limits.get("memory")),
        cpu_quota_millis=_millis(limits.get("cpu")),
        cpu_shares=(_millis(requests.get("cpu")) or 0) * 1024 // 1000 or None,
        privileged=bool(sec.get("privileged")),
        cap_add=list(caps.get("add") or []),
        cap_drop=list(caps.get("drop") or []),
    )


def _expanded(words: list[str] | None, env: dict[str, str]) -> list[str] | None:
    """`$(VAR)` in command and args is the container's variable (kube's
    ExpandContainerCommandAndArgs): `--ip=$(POD_IP)` gets the address; `$$` is a `$`."""
    return None if words is None else [expand(w, env) for w in words]


def _bytes(q: Any) -> int | None:
    from api.quantity import to_int

    return None if q is None else to_int(q)


def _millis(q: Any) -> int | None:
    from api.quantity import to_milli

    return None if q is None else to_milli(q)

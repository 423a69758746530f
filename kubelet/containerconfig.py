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
from kubelet.admission import sysctl_name
from kubelet.dns.podconfig import pod_hostname as dns_hostname
from kubelet.env import container_env, expand
from kubelet.podfiles import DISK, PodFiles
from kubelet.podobjects import ContainerConfigError, PodObjects
from runtime.interface import ContainerConfig, Mount, SandboxInfo

POD_UID = "io.kubernetes.pod.uid"
POD_NAME = "io.kubernetes.pod.name"
POD_NAMESPACE = "io.kubernetes.pod.namespace"
CONTAINER_NAME = "io.kubernetes.container.name"
RESTART_COUNT = "io.kubernetes.container.restartCount"
# CRI's NamespaceMode for a pod's processes: the node's, one of the pod's sandbox, each container's own
PID_NODE, PID_POD, PID_CONTAINER = "NODE", "POD", "CONTAINER"
# what a container's securityContext takes from the pod's when it sets none itself
# (kube's DetermineEffectiveSecurityContext)
POD_LEVEL = ("runAsUser", "runAsGroup", "runAsNonRoot", "seLinuxOptions", "seccompProfile", "appArmorProfile")


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
    image_user: str = "",
) -> ContainerConfig:
    """Raises ContainerConfigError (env sources, runAsNonRoot) or VolumeError (volumes) for what
    cannot be made; `image_user` is the image's USER, which runAsNonRoot checks."""
    meta = pod["metadata"]
    pod_ip = sandbox.ip or host_ip
    vols = volumes.setup_volumes(pod, data_dir, objects, pod_ip, host_ip, files)
    env = container_env(pod, c, pod_ip, host_ip, services(meta.get("namespace", "default")), objects)
    res = c.get("resources") or {}
    limits, requests = res.get("limits") or {}, res.get("requests") or {}
    pod_sec = (pod.get("spec") or {}).get("securityContext") or {}
    sec = {
        **{k: pod_sec[k] for k in POD_LEVEL if pod_sec.get(k) is not None},
        **(c.get("securityContext") or {}),
    }
    caps = sec.get("capabilities") or {}
    verify_run_as_non_root(pod, c["name"], sec, image_user)
    refuse_unsupported(pod.get("spec") or {}, c, sec)
    return ContainerConfig(
        name=c["name"],
        image=c["image"],
        command=_expanded(c.get("command"), env),
        args=_expanded(c.get("args"), env),
        env=env,
        working_dir=c.get("workingDir", ""),
        user=run_as(sec, image_user),
        groups=supplementary_groups(pod_sec),
        read_only_rootfs=bool(sec.get("readOnlyRootFilesystem")),
        no_new_privileges=sec.get("allowPrivilegeEscalation") is False,
        seccomp_unconfined=seccomp_unconfined(sec),
        sysctls=pod_sysctls(pod.get("spec") or {}),
        host_pid=pid_namespace(pod.get("spec") or {}) == PID_NODE,
        pod_pid=pid_namespace(pod.get("spec") or {}) == PID_POD,
        host_ipc=bool((pod.get("spec") or {}).get("hostIPC")),
        tty=bool(c.get("tty")),
        stdin=bool(c.get("stdin")),
        stdin_once=bool(c.get("stdinOnce")),
        labels={
            POD_UID: meta["uid"],
            POD_NAME: meta["name"],
            POD_NAMESPACE: meta.get("namespace", "default"),
            CONTAINER_NAME: c["name"],
            RESTART_COUNT: str(restarts),
        },
        mounts=volumes.container_mounts(c, vols, volumes.read_only_volumes(pod), env)
        + _termination_log(pod, c, data_dir, restarts, files),
        memory_limit=_bytes(limits.get("memory")),
        cpu_quota_millis=_millis(limits.get("cpu")),
        cpu_shares=(_millis(requests.get("cpu")) or 0) * 1024 // 1000 or None,
        privileged=bool(sec.get("privileged")),
        cap_add=list(caps.get("add") or []),
        cap_drop=list(caps.get("drop") or []),
    )


def pid_namespace(spec: dict[str, Any]) -> str:
    """kube's PidNamespaceForPod: the node's for hostPID, one for the whole pod (its sandbox's,
    whose PID 1 is the pause) for shareProcessNamespace, else each container's own."""
    if spec.get("hostPID"):
        return PID_NODE
    return PID_POD if spec.get("shareProcessNamespace") else PID_CONTAINER


def pid_target(spec: dict[str, Any], target: str) -> str:
    """The container whose process namespace an ephemeral container joins (its target's running
    instance): only where each container has its own, as kube's kubelet asks for NamespaceMode
    TARGET only then; in a pod sharing one, or the node's, it is in that one like the others."""
    return target if pid_namespace(spec) == PID_CONTAINER else ""


def refuse_user_namespace(spec: dict[str, Any]) -> None:
    """`hostUsers: false` asks for a user namespace, which this runtime does not make: kube's
    kubelet fails the sandbox in these words when its runtime cannot (the pod waits)."""
    if spec.get("hostUsers") is False:
        raise ContainerConfigError(
            "can't set `spec.hostUsers: false`, runtime does not support user namespaces"
        )


# the runtime handlers this node's runtime has: runc alone ("" is the default, which is runc)
RUNTIME_HANDLERS = frozenset({"", "runc"})


def refuse_runtime_handler(handler: str) -> None:
    """A handler the node has no runtime for fails the sandbox as containerd fails the CRI call
    (kube's kubelet reports the call's error as it comes; the pod waits)."""
    if handler not in RUNTIME_HANDLERS:
        raise ContainerConfigError(
            "rpc error: code = Unknown desc = failed to get sandbox runtime: "
            f'no runtime for "{handler}" is configured'
        )


def kernel_hostname(pod: dict[str, Any], cluster_domain: str) -> str:
    """The pod's kernel hostname: the short name its /etc/hosts gives it (`dns.podconfig`'s
    pod_hostname); with setHostnameAsFQDN and a subdomain, the fully qualified name (at most 64
    characters, as kube refuses longer)."""
    short, domain = dns_hostname(pod, cluster_domain)
    if not ((pod.get("spec") or {}).get("setHostnameAsFQDN") and domain):
        return short
    fqdn = f"{short}.{domain}"
    if len(fqdn) > 64:
        raise ContainerConfigError(
            f"failed to construct FQDN from pod hostname and cluster domain, FQDN {fqdn} is too long "
            f"(64 characters is the max, {len(fqdn)} characters requested)"
        )
    return fqdn


# what the runtime's port mapping publishes (nftables DNAT); an SCTP hostPort is refused when
# its container is made (refuse_unsupported), so host_ports never meets one
PUBLISHED_PROTOCOLS = ("TCP", "UDP")


def host_ports(spec: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    """The hostPorts the node publishes to a pod on its own network, as CNI's portmap plugin
    does (a hostNetwork pod's ports are the node's already): (host IP or "", host port,
    container port, tcp|udp)."""
    if spec.get("hostNetwork"):
        return []
    out = []
    for c in spec.get("containers") or []:
        for p in c.get("ports") or []:
            protocol = str(p.get("protocol") or "TCP")
            if p.get("hostPort") and protocol in PUBLISHED_PROTOCOLS:
                ip = "" if p.get("hostIP") in (None, "", "0.0.0.0") else str(p["hostIP"])
                out.append((ip, int(p["hostPort"]), int(p["containerPort"]), protocol.lower()))
    return out


def _termination_log(
    pod: dict[str, Any], c: dict[str, Any], data_dir: Path, restarts: int, files: PodFiles
) -> list[Mount]:
    """A file of the pod's directory at terminationMessagePath (/dev/termination-log unless set):
    what the container writes there is its terminated state's message."""
    where = c.get("terminationMessagePath")
    if not where:
        return []
    host = files.termination_log(data_dir, pod["metadata"]["uid"], c["name"], restarts)
    return [Mount(container_path=where, host_path=str(host), read_only=False)]


def pod_sysctls(spec: dict[str, Any]) -> dict[str, str]:
    """The pod's securityContext.sysctls, applied in its containers' namespaces (admission has
    refused the pod already if one is not allowed)."""
    return {
        sysctl_name(str(s.get("name") or "")): str(s.get("value") or "")
        for s in (spec.get("securityContext") or {}).get("sysctls") or []
    }


def seccomp_unconfined(sec: dict[str, Any]) -> bool:
    """seccompProfile: Unconfined runs without a filter; RuntimeDefault, or none, gets the
    runtime's default profile (stricter than kube's unset, which is Unconfined); a Localhost
    profile is refused: the runtime loads no profile files."""
    profile = sec.get("seccompProfile") or {}
    kind = profile.get("type") if isinstance(profile, dict) else None
    if kind == "Localhost":
        raise ContainerConfigError(
            f'seccomp profile "localhost/{profile.get("localhostProfile", "")}": Localhost profiles are not supported'
        )
    return kind == "Unconfined"


def run_as(sec: dict[str, Any], image_user: str) -> str:
    """The runtime's user spec: runAsUser and runAsGroup over the image's USER (a runAsGroup alone
    keeps the image's user, as containerd does)."""
    uid, gid = sec.get("runAsUser"), sec.get("runAsGroup")
    if uid is None and gid is None:
        return ""
    name = str(uid) if uid is not None else image_user.partition(":")[0] or "0"
    return name + (f":{gid}" if gid is not None else "")


def supplementary_groups(pod_sec: dict[str, Any]) -> list[int]:
    """The pod's supplementalGroups and its fsGroup: every container's processes are in them."""
    groups = [g for g in pod_sec.get("supplementalGroups") or [] if isinstance(g, int)]
    fs_group = pod_sec.get("fsGroup")
    if isinstance(fs_group, int) and fs_group not in groups:
        groups.append(fs_group)
    return groups


def refuse_unsupported(spec: dict[str, Any], c: dict[str, Any], sec: dict[str, Any]) -> None:
    """What this node cannot do, refused before the start instead of run without it (as kube's
    kubelet refuses an AppArmor profile on a host without AppArmor)."""
    apparmor = (sec.get("appArmorProfile") or {}).get("type")
    if apparmor in ("RuntimeDefault", "Localhost"):
        raise ContainerConfigError("Cannot enforce AppArmor: AppArmor is not enabled on the host")
    if sec.get("procMount") not in (None, "Default"):
        raise ContainerConfigError(f"procMount {sec['procMount']!r} is not supported: /proc is always masked")
    if c.get("volumeDevices"):
        raise ContainerConfigError(
            "volumeDevices are not supported: block volumes need a CSI driver this node lacks"
        )
    for p in c.get("ports") or []:
        protocol = str(p.get("protocol") or "TCP")
        if p.get("hostPort") and protocol not in PUBLISHED_PROTOCOLS and not spec.get("hostNetwork"):
            raise ContainerConfigError(
                f"hostPort {p['hostPort']}/{protocol} cannot be published: only TCP and UDP are"
            )


def verify_run_as_non_root(pod: dict[str, Any], name: str, sec: dict[str, Any], image_user: str) -> None:
    """runAsNonRoot, as the kubelet checks it before a start (kube's verifyRunAsNonRoot): a root
    runAsUser, or no runAsUser and an image running as root or as a user name it cannot check."""
    if not sec.get("runAsNonRoot"):
        return
    meta = pod["metadata"]
    where = f'(pod: "{meta["name"]}_{meta.get("namespace", "default")}({meta["uid"]})", container: {name})'
    if sec.get("runAsUser") is not None:
        if sec["runAsUser"] == 0:
            raise ContainerConfigError(f"container's runAsUser breaks non-root policy {where}")
        return
    user = image_user.partition(":")[0]
    if not user or user == "0":  # an image without USER runs as root
        raise ContainerConfigError(f"container has runAsNonRoot and image will run as root {where}")
    if not user.isdigit():
        raise ContainerConfigError(
            f"container has runAsNonRoot and image has non-numeric user ({user}), cannot verify user is non-root {where}"
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

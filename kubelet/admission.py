"""What the kubelet refuses to admit: a pod it will never run, failed before anything is made.

kube's kubelet runs admit handlers when a pod arrives; a refusal fails the pod (phase Failed,
the handler's reason and message, a warning event) and creates no sandbox and no container.
These checks look at the pod alone, so they are pure functions here; `sync` applies the
verdict. What depends on a container (its image's user, its volumes) is judged when the
container is made (`containerconfig`), as kube does.
"""

from __future__ import annotations

from typing import Any

OS_NOT_SUPPORTED = "PodOSNotSupported"
OS_MESSAGE = "Failed to admit pod as the OS field doesn't match node OS"
SYSCTL_FORBIDDEN = "SysctlForbidden"

# kube's safe sysctls, by the namespace each lives in: allowed on every kubelet without
# --allowed-unsafe-sysctls, unless the pod shares that namespace with the host
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced": "ipc",
    "net.ipv4.ip_local_port_range": "net",
    "net.ipv4.tcp_syncookies": "net",
    "net.ipv4.ping_group_range": "net",
    "net.ipv4.ip_unprivileged_port_start": "net",
    "net.ipv4.ip_local_reserved_ports": "net",
    "net.ipv4.tcp_keepalive_time": "net",
    "net.ipv4.tcp_fin_timeout": "net",
    "net.ipv4.tcp_keepalive_intvl": "net",
    "net.ipv4.tcp_keepalive_probes": "net",
    "net.ipv4.tcp_rmem": "net",
    "net.ipv4.tcp_wmem": "net",
}


def sysctl_name(name: str) -> str:
    """The dotted form: kube accepts `/` as the separator too (`net/ipv4/tcp_syncookies`) and
    judges and reports the normalized name."""
    return name.replace("/", ".")


def sysctl_refusal(spec: dict[str, Any]) -> str | None:
    """kube's sysctl admit handler: each of the pod's sysctls must be on the safe list, and not
    in a namespace the pod shares with the host (host network, host IPC)."""
    shared = {"net": bool(spec.get("hostNetwork")), "ipc": bool(spec.get("hostIPC"))}
    for s in (spec.get("securityContext") or {}).get("sysctls") or []:
        name = sysctl_name(str(s.get("name") or ""))
        namespace = SAFE_SYSCTLS.get(name)
        if namespace is None:
            return f'forbidden sysctl: "{name}" not allowlisted'
        if shared[namespace]:
            return f'forbidden sysctl: "{name}" not allowed with host {namespace} enabled'
    return None


def refusal(pod: dict[str, Any]) -> tuple[str, str] | None:
    """(reason, message) when the pod is not admitted, else None."""
    spec = pod.get("spec") or {}
    if ((spec.get("os") or {}).get("name")) not in (None, "linux"):
        return OS_NOT_SUPPORTED, OS_MESSAGE
    message = sysctl_refusal(spec)
    if message is not None:
        return SYSCTL_FORBIDDEN, message
    return None

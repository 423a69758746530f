"""A container's environment as the kubelet builds it (pure).

Order and precedence as Kubernetes: service variables of the pod's namespace first (when
`enableServiceLinks`, the default), then the container's `env` in order, each value expanded
with `$(VAR)` against what is defined so far (`$$(VAR)` stays literal, unknown `$(X)` stays
as is); `valueFrom.fieldRef` reads the downward API. Service variables are both the
Kubernetes ones (`WEB_SERVICE_HOST`, `WEB_SERVICE_PORT`, `WEB_SERVICE_PORT_HTTP`) and the
docker-link ones (`WEB_PORT=tcp://10.96.0.12:80`, `WEB_PORT_80_TCP_ADDR` ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any


def _env_name(service_name: str) -> str:
    return service_name.upper().replace("-", "_")


def service_env(services: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Variables for every service with a cluster IP (headless and ExternalName ones give none)."""
    env: dict[str, str] = {}
    for svc in sorted(services, key=lambda s: s["metadata"]["name"]):
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP")
        ports = spec.get("ports") or []
        if not ip or ip == "None" or not ports:
            continue
        prefix = _env_name(svc["metadata"]["name"])
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
        for p in ports:
            if p.get("name"):
                env[f"{prefix}_SERVICE_PORT_{_env_name(p['name'])}"] = str(p["port"])
        first = ports[0]
        env[f"{prefix}_PORT"] = f"{first.get('protocol', 'TCP').lower()}://{ip}:{first['port']}"
        for p in ports:
            proto = p.get("protocol", "TCP")
            base = f"{prefix}_PORT_{p['port']}_{proto.upper()}"
            env[base] = f"{proto.lower()}://{ip}:{p['port']}"
            env[f"{base}_PROTO"] = proto.lower()
            env[f"{base}_PORT"] = str(p["port"])
            env[f"{base}_ADDR"] = ip
    return env


_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(value: str, defined: dict[str, str]) -> str:
    """Kubernetes `$(VAR)` expansion: `$$` is a literal `$`, unknown references stay as written."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return defined.get(name, m.group(0))

    return _REF.sub(sub, value)


_LABEL_REF = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


def field_ref(pod: dict[str, Any], path: str, pod_ip: str, host_ip: str) -> str:
    """The downward API value of a `fieldRef.fieldPath`."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    if path in simple:
        return str(simple[path])
    m = _LABEL_REF.match(path)
    if m:
        return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
    raise ValueError(f"unsupported fieldRef fieldPath {path!r}")


def container_env(pod: dict[str, Any], container: dict[str, Any], pod_ip: str, host_ip: str,
                  services: Iterable[dict[str, Any]] = ()) -> dict[str, str]:
    spec = pod.get("spec") or {}
    env: dict[str, str] = {}
    if spec.get("enableServiceLinks", True):
        env.update(service_env(services))
    for var in container.get("env") or []:
        name = var["name"]
        if "valueFrom" in var:
            src = var["valueFrom"] or {}
            if "fieldRef" in src:
                env[name] = field_ref(pod, src["fieldRef"]["fieldPath"], pod_ip, host_ip)
            else:
                raise ValueError(f"env {name}: only fieldRef is supported in valueFrom")
        else:
            env[name] = expand(str(var.get("value", "")), env)
    return env

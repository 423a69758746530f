"""A container's environment as the kubelet builds it (pure).

Order and precedence as Kubernetes: service variables of the pod's namespace first (when
`enableServiceLinks`, the default), then `envFrom` sources (ConfigMaps and Secrets, with their
prefix; keys that are not valid variable names are skipped), then the container's `env` in
order, each value expanded with `$(VAR)` against what is defined so far (`$$(VAR)` stays
literal, unknown `$(X)` stays as is); `valueFrom` reads the downward API (`fieldRef`,
`resourceFieldRef`) or a key of a ConfigMap or Secret (`configMapKeyRef`, `secretKeyRef`). A
missing non-optional source is a `ContainerConfigError` worded as kubelet's. Service variables are both the
Kubernetes ones (`WEB_SERVICE_HOST`, `WEB_SERVICE_PORT`, `WEB_SERVICE_PORT_HTTP`) and the
docker-link ones (`WEB_PORT=tcp://10.96.0.12:80`, `WEB_PORT_80_TCP_ADDR` ...).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from api.podrefs import CONFIGMAPS, SECRETS
from api.quantity import parse_quantity
from kubelet.podobjects import KIND_NAME, ContainerConfigError, PodObjects


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


def expand(value: str, defined: Mapping[str, str]) -> str:
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


_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def object_data(resource: str, obj: dict[str, Any]) -> dict[str, str]:
    """A ConfigMap's or Secret's values as text (Secret data and binaryData are base64)."""
    if resource == SECRETS:
        return {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in (obj.get("data") or {}).items()}
    out = dict(obj.get("data") or {})
    for k, v in (obj.get("binaryData") or {}).items():
        out.setdefault(k, base64.b64decode(v).decode("utf-8", "replace"))
    return out


def _key_ref(objects: PodObjects, resource: str, ref: dict[str, Any]) -> str | None:
    name, key, optional = ref.get("name") or "", ref.get("key") or "", bool(ref.get("optional"))
    obj = objects.require(resource, name, optional)
    if obj is None:
        return None
    data = object_data(resource, obj)
    if key not in data:
        if optional:
            return None
        raise ContainerConfigError(
            f"couldn't find key {key} in {KIND_NAME[resource]} {objects.namespace}/{name}"
        )
    return data[key]


def resource_field(
    pod: dict[str, Any],
    container: dict[str, Any],
    ref: dict[str, Any],
    allocatable: dict[str, Any] | None = None,
) -> str:
    """`resourceFieldRef`: a limit or request of a container (the node's allocatable when no limit
    is set), divided by `divisor` and rounded up, as the downward API gives it."""
    name = ref.get("containerName") or container.get("name")
    target = next(
        (c for c in (pod.get("spec") or {}).get("containers") or [] if c.get("name") == name), container
    )
    section, _, what = str(ref.get("resource") or "").partition(".")
    if section not in ("limits", "requests") or not what:
        raise ContainerConfigError(f"unsupported resourceFieldRef resource {ref.get('resource')!r}")
    value = ((target.get("resources") or {}).get(section) or {}).get(what)
    if value is None and section == "limits":
        value = (allocatable or {}).get(what)
    if value is None:
        return "0"
    divisor = parse_quantity(ref.get("divisor") or "1")
    return str(math.ceil(parse_quantity(value) / divisor)) if divisor else "0"


def container_env(
    pod: dict[str, Any],
    container: dict[str, Any],
    pod_ip: str,
    host_ip: str,
    services: Iterable[dict[str, Any]] = (),
    objects: PodObjects | None = None,
    allocatable: dict[str, Any] | None = None,
) -> dict[str, str]:
    spec = pod.get("spec") or {}
    objects = objects or PodObjects((pod.get("metadata") or {}).get("namespace") or "default")
    env: dict[str, str] = {}
    if spec.get("enableServiceLinks", True):
        env.update(service_env(services))
    for source in container.get("envFrom") or []:
        for resource, ref_key in ((CONFIGMAPS, "configMapRef"), (SECRETS, "secretRef")):
            ref = source.get(ref_key)
            if not isinstance(ref, dict):
                continue
            obj = objects.require(resource, ref.get("name") or "", bool(ref.get("optional")))
            if obj is None:
                continue
            prefix = source.get("prefix") or ""
            for key, text in object_data(resource, obj).items():
                if _ENV_NAME.match(prefix + key):
                    env[prefix + key] = text
    for var in container.get("env") or []:
        name = var["name"]
        if "valueFrom" in var:
            src = var["valueFrom"] or {}
            value: str | None
            if "fieldRef" in src:
                value = field_ref(pod, src["fieldRef"]["fieldPath"], pod_ip, host_ip)
            elif "resourceFieldRef" in src:
                value = resource_field(pod, container, src["resourceFieldRef"], allocatable)
            elif "configMapKeyRef" in src:
                value = _key_ref(objects, CONFIGMAPS, src["configMapKeyRef"])
            elif "secretKeyRef" in src:
                value = _key_ref(objects, SECRETS, src["secretKeyRef"])
            else:
                raise ContainerConfigError(f"env {name}: valueFrom has no source")
            if value is not None:
                env[name] = value
        else:
            env[name] = expand(str(var.get("value", "")), env)
    return env

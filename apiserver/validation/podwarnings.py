"""What kube-apiserver warns about in a pod or a pod template (pkg/api/pod/warnings.go).

A write that is valid but uses something kube has deprecated or that does not do what it seems
is accepted, and the answer carries a `Warning` header per finding, which kubectl prints
(`Warning: spec.template.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]:
non-functional in v1.27+; use the "seccompProfile" field instead`). The workloads warn about
their template at its path (`spec.template.`, a CronJob's `spec.jobTemplate.spec.template.`).
Covered here: the deprecated annotations, the deprecated node labels in nodeSelector and node
affinity, the deprecated and removed volume plugins (gitRepo, rbd, cephfs ...), a negative
terminationGracePeriodSeconds, fractional memory bytes, an environment variable defined twice in
one container and a port defined twice; and a PersistentVolume's (the Recycle policy, deprecated
node labels, the same volume plugins). Pure, and cheap on a pod that has none of these (each
check looks only where the thing would be).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.quantity import parse_quantity

Obj = dict[str, Any]
_SECCOMP = 'non-functional in v1.27+; use the "seccompProfile" field instead'
_SYSCTLS = 'non-functional in v1.11+; use the "sysctls" field instead'
ANNOTATIONS = {
    "scheduler.alpha.kubernetes.io/critical-pod": 'non-functional in v1.16+; use the "priorityClassName" field instead',
    "seccomp.security.alpha.kubernetes.io/pod": _SECCOMP,
    "security.alpha.kubernetes.io/sysctls": _SYSCTLS,
    "security.alpha.kubernetes.io/unsafe-sysctls": _SYSCTLS,
}
ANNOTATION_PREFIXES = {
    "container.seccomp.security.alpha.kubernetes.io/": _SECCOMP,
    "container.apparmor.security.beta.kubernetes.io/": 'deprecated since v1.30; use the "appArmorProfile" field instead',
}
# deprecated and removed volume plugins: source -> (the field as kube's warning spells it, message)
VOLUME_PLUGINS = {
    "photonPersistentDisk": ("photonPersistentDisk", "deprecated in v1.11, non-functional in v1.16+"),
    "gitRepo": ("gitRepo", "deprecated in v1.11"),
    "scaleIO": ("scaleIO", "deprecated in v1.16, non-functional in v1.22+"),
    "flocker": ("flocker", "deprecated in v1.22, non-functional in v1.25+"),
    "storageos": ("storageOS", "deprecated in v1.22, non-functional in v1.25+"),
    "quobyte": ("quobyte", "deprecated in v1.22, non-functional in v1.25+"),
    "glusterfs": ("glusterfs", "deprecated in v1.25, non-functional in v1.26+"),
    "cephfs": ("cephfs", "deprecated in v1.28, non-functional in v1.31+"),
    "rbd": ("rbd", "deprecated in v1.28, non-functional in v1.31+"),
}
NODE_LABELS = {
    "beta.kubernetes.io/arch": 'deprecated since v1.14; use "kubernetes.io/arch" instead',
    "beta.kubernetes.io/os": 'deprecated since v1.14; use "kubernetes.io/os" instead',
    "failure-domain.beta.kubernetes.io/region": 'deprecated since v1.17; use "topology.kubernetes.io/region" instead',
    "failure-domain.beta.kubernetes.io/zone": 'deprecated since v1.17; use "topology.kubernetes.io/zone" instead',
    "beta.kubernetes.io/instance-type": 'deprecated since v1.17; use "node.kubernetes.io/instance-type" instead',
}
CONTAINER_KINDS = ("containers", "initContainers", "ephemeralContainers")


def _annotations(meta: Obj, path: str) -> list[str]:
    out = []
    for key in meta.get("annotations") or {}:
        note = ANNOTATIONS.get(key) or next(
            (m for prefix, m in ANNOTATION_PREFIXES.items() if key.startswith(prefix)), None
        )
        if note:
            out.append(f"{path}metadata.annotations[{key}]: {note}")
    return out


def _node_labels(spec: Obj, path: str) -> list[str]:
    out = [
        f"{path}spec.nodeSelector[{key}]: {NODE_LABELS[key]}"
        for key in spec.get("nodeSelector") or {}
        if key in NODE_LABELS
    ]
    required = (
        ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
    ) or {}
    for i, term in enumerate(required.get("nodeSelectorTerms") or []):
        for j, expr in enumerate((term or {}).get("matchExpressions") or []):
            key = (expr or {}).get("key")
            if key in NODE_LABELS:
                where = f"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}].matchExpressions[{j}].key"
                out.append(f"{path}{where}: {key} is {NODE_LABELS[key]}")
    return out


def _fractional_memory(value: Any) -> bool:
    try:
        return parse_quantity(value) % 1 != 0
    except (TypeError, ValueError, ArithmeticError):
        return False


def _container(c: Obj, where: str) -> list[str]:
    out = []
    resources = c.get("resources") or {}
    for key in ("requests", "limits"):
        memory = (resources.get(key) or {}).get("memory")
        if memory is not None and _fractional_memory(memory):
            out.append(
                f'{where}.resources.{key}[memory]: fractional byte value "{memory}" is invalid, must be an integer'
            )
    seen: dict[str, int] = {}
    for i, env in enumerate(c.get("env") or []):
        name = str((env or {}).get("name"))
        if name in seen:
            out.append(
                f'{where}.env[{i}]: hides previous definition of "{name}", which may be dropped when using apply'
            )
        seen[name] = i
    return out


def _ports(spec: Obj, path: str) -> list[str]:
    out: list[str] = []
    seen: dict[tuple[Any, ...], str] = {}
    for k, c in enumerate(spec.get("containers") or []):
        for i, port in enumerate((c or {}).get("ports") or []):
            p = port or {}
            key = (
                p.get("containerPort"),
                p.get("protocol") or "TCP",
                p.get("hostIP") or "",
                p.get("hostPort") or 0,
            )
            here = f"{path}spec.containers[{k}].ports[{i}]"
            if key in seen:
                out.append(f"{here}: duplicate port definition with {seen[key]}")
            else:
                seen[key] = here
    return out


def pod_warnings(pod: Obj, path: str = "") -> list[str]:
    """The warnings for a pod, or a template at `path` (`spec.template.`), in kube's words."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    if not isinstance(meta, dict) or not isinstance(spec, dict):
        return []
    out = _annotations(meta, path) if meta.get("annotations") else []
    if spec.get("nodeSelector") or spec.get("affinity"):
        out += _node_labels(spec, path)
    for i, volume in enumerate(spec.get("volumes") or []):
        if isinstance(volume, dict):
            out += [
                f"{path}spec.volumes[{i}].{field}: {message}"
                for source, (field, message) in VOLUME_PLUGINS.items()
                if volume.get(source) is not None
            ]
    grace = spec.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and grace < 0:
        out.append(
            f"{path}spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1"
        )
    for kind in CONTAINER_KINDS:
        for i, c in enumerate(spec.get(kind) or []):
            if isinstance(c, dict) and (c.get("env") or c.get("resources")):
                out += _container(c, f"{path}spec.{kind}[{i}]")
    if any(isinstance(c, dict) and c.get("ports") for c in spec.get("containers") or []):
        out += _ports(spec, path)
    return out


def template_warnings(*steps: str) -> Callable[[Obj], list[str]]:
    """The warnings of a workload's pod template, found by `steps` (`"spec", "template"`)."""
    path = "".join(f"{s}." for s in steps)

    def warnings(obj: Obj) -> list[str]:
        template: Any = obj
        for step in steps:
            template = template.get(step) if isinstance(template, dict) else None
        return pod_warnings(template, path) if isinstance(template, dict) else []

    return warnings


# the volume plugins kube warns about in a PersistentVolume (pkg/api/persistentvolume/util.go)
PV_PLUGINS = ("cephfs", "photonPersistentDisk", "scaleIO", "storageos", "glusterfs", "rbd")


def persistent_volume_warnings(pv: Obj) -> list[str]:
    """A PersistentVolume's warnings in kube's words: the Recycle policy, deprecated node labels in
    its node affinity, and the deprecated volume plugins (the pods' table)."""
    spec = pv.get("spec")
    if not isinstance(spec, dict):
        return []
    out = []
    if spec.get("persistentVolumeReclaimPolicy") == "Recycle":
        out.append(
            "spec.persistentVolumeReclaimPolicy: The Recycle reclaim policy is deprecated. "
            "Instead, the recommended approach is to use dynamic provisioning."
        )
    required = (spec.get("nodeAffinity") or {}).get("required") or {}
    for i, term in enumerate(required.get("nodeSelectorTerms") or []):
        for j, expr in enumerate((term or {}).get("matchExpressions") or []):
            key = (expr or {}).get("key")
            if key in NODE_LABELS:
                where = f"spec.nodeAffinity.required.nodeSelectorTerms[{i}].matchExpressions[{j}].key"
                out.append(f"{where}: {key} is {NODE_LABELS[key]}")
    for source in PV_PLUGINS:
        if spec.get(source) is not None:
            field, message = VOLUME_PLUGINS[source]
            out.append(f"spec.{field}: {message}")
    return out

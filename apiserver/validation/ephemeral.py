"""Ephemeral containers' own rules (kube's validateEphemeralContainers and
ValidatePodEphemeralContainersUpdate), worded as kube-apiserver words them.

An ephemeral container is a Container with a few fields taken away: it is a debugging tool, so
nothing the pod depends on (ports, probes, lifecycle hooks, resources, a restart policy) may be
set on it, and a volume mount may not use subPath (a bind mount left behind until the pod ends).
Its `targetContainerName` names a regular or init container whose process namespace it joins.
They come only through `pods/<name>/ephemeralcontainers`, are never changed or removed once
there, and a pod created with some, or a pod template holding some, is refused. The checks
shared with every container (name, image, env, mounts) stay in `validation.pod`.
"""

from __future__ import annotations

import json
from typing import Any

from api.errors import Cause, field_forbidden
from api.jsonutil import as_object
from apiserver.validation.meta import not_found

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
CANNOT_BE_SET = "cannot be set for an Ephemeral Container"
ON_CREATE = "cannot be set on create"
IN_TEMPLATE = "ephemeral containers not allowed in pod template"
# the fields of EphemeralContainerCommon kube leaves off its allow list, in the order of its Go
# struct (which is the order kube reports them in)
NOT_ALLOWED = (
    "ports",
    "resources",
    "resizePolicy",
    "restartPolicy",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
)


def _zero(value: Any) -> bool:
    """Whether a field holds its Go zero value, as kube's allow list compares: absent, null, or an
    empty object/list (what `"resources": {}`, which kubectl debug sends, decodes to)."""
    if isinstance(value, dict):
        return all(_zero(v) for v in value.values())
    return value is None or value == [] or value == "" or value is False


def ephemeral_rules(c: Any, path: str, others: set[str]) -> list[Cause]:
    """What an ephemeral container may not have beyond a container's common checks: a target that
    is not one of the pod's regular or init containers (`others`), the fields off the allow list,
    subPath and subPathExpr on its volume mounts."""
    c = as_object(c)
    causes: list[Cause] = []
    target = c.get("targetContainerName")
    if target and target not in others:
        causes.append(not_found(f"{path}.targetContainerName", target))
    causes += [
        field_forbidden(f"{path}.{key}", CANNOT_BE_SET) for key in NOT_ALLOWED if not _zero(c.get(key))
    ]
    for i, m in enumerate(c.get("volumeMounts") or []):
        m = as_object(m)
        for key in ("subPath", "subPathExpr"):
            if m.get(key):
                causes.append(field_forbidden(f"{path}.volumeMounts[{i}].{key}", CANNOT_BE_SET))
    return causes


def validate_ephemeral_create(spec: Any, path: str = "spec") -> list[Cause]:
    """kube's ValidatePodCreate: ephemeral containers come later, through the subresource."""
    if as_object(spec).get("ephemeralContainers"):
        return [field_forbidden(f"{path}.ephemeralContainers", ON_CREATE)]
    return []


def _diff(old: dict[str, Any], new: dict[str, Any]) -> str:
    """The fields that differ, one `-`/`+` line each: kube appends a Go diff of the two structs."""
    lines = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            if key in old:
                lines.append(f"-  {key}: {json.dumps(old[key])}")
            if key in new:
                lines.append(f"+  {key}: {json.dumps(new[key])}")
    return "\n".join(lines)


def validate_ephemeral_update(
    new_spec: Any, old_spec: Any, old_annotations: dict[str, Any] | None
) -> list[Cause]:
    """A write to pods/<name>/ephemeralcontainers: none of the existing ones removed or changed
    (matched by name, as a patch may reorder them); a static pod's mirror takes none."""
    if MIRROR_ANNOTATION in (old_annotations or {}):
        return [field_forbidden("", "static pods do not support ephemeral containers")]
    path = "spec.ephemeralContainers"
    new_list = [as_object(c) for c in as_object(new_spec).get("ephemeralContainers") or []]
    by_name = {c.get("name"): c for c in new_list}
    causes: list[Cause] = []
    for old in as_object(old_spec).get("ephemeralContainers") or []:
        old = as_object(old)
        name = old.get("name")
        new = by_name.get(name)
        if new is None:
            causes.append(
                field_forbidden(path, f'existing ephemeral containers "{name}" may not be removed\n')
            )
        elif new != old:  # JSON objects: dict equality ignores key order
            causes.append(
                field_forbidden(
                    path, f'existing ephemeral containers "{name}" may not be changed\n{_diff(old, new)}'
                )
            )
    return causes

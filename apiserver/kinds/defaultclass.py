"""The "default class" rule two admission plugins share: DefaultStorageClass (a claim without
`storageClassName`) and DefaultIngressClass (an Ingress without `ingressClassName`) both give the
object the class annotated as the default, the newest when several are (kube's GetDefaultClass,
ties broken by name), and none when none is marked. Both read the classes from the store in a
write hook, and both have a class every server makes at bootstrap, marked the default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api import jsonutil
from api.resources import Resource
from apiserver.kinds import HookContext, Obj


def marked_default(api_version: str, kind: str, name: str, annotation: str, **fields: Any) -> Obj:
    """A class object annotated `annotation: "true"` (a fresh dict: creating it fills metadata)."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "annotations": {annotation: "true"}},
        **fields,
    }


def annotated_true(obj: Obj, *annotations: str) -> bool:
    """Whether any of these annotations of `obj` is "true"."""
    present = (obj.get("metadata") or {}).get("annotations") or {}
    return any(present.get(a) == "true" for a in annotations)


def newest_default(classes: list[Obj], is_default: Callable[[Obj], bool]) -> Obj | None:
    """The newest class `is_default` accepts, then by name; None when none is."""
    marked = [c for c in classes if is_default(c)]
    if not marked:
        return None
    return max(
        marked,
        key=lambda c: (
            str((c.get("metadata") or {}).get("creationTimestamp") or ""),
            str((c.get("metadata") or {}).get("name") or ""),
        ),
    )


async def stored_classes(ctx: HookContext, classes: Resource | None) -> list[Obj]:
    """Every stored object of the (cluster-scoped) class resource, read by a write hook."""
    assert classes is not None
    _, kvs = await ctx.list(classes, None)  # type: ignore[attr-defined]  # the registry
    return [jsonutil.loads(kv.value) for kv in kvs]

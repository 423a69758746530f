"""Object bodies the tests (and the benches) build again and again: a ReplicationController and
an apps/v1 workload of one container, in the shape the API takes them."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def rc_body(
    name: str,
    replicas: int,
    labels: dict[str, str] | None = None,
    cpu: str | None = None,
    image: str = "busybox:1",
) -> Obj:
    """A ReplicationController selecting (and labelling its pods) `labels`, app=<name> unless
    given, whose pods run one container `c` of `image`, requesting `cpu` when given."""
    labels = labels or {"app": name}
    c: Obj = {"name": "c", "image": image}
    if cpu:
        c["resources"] = {"requests": {"cpu": cpu}}
    return {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": labels,
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [c]}},
        },
    }


def apps_body(
    kind: str,
    name: str,
    replicas: int | None = None,
    image: str = "busybox:1",
    *,
    meta: Obj | None = None,
    **spec: Any,
) -> Obj:
    """An apps/v1 workload (Deployment, StatefulSet, DaemonSet, ReplicaSet) selecting pods labelled
    app=<name> that run one container `c` of `image`; `spec` adds to (or overrides) its spec,
    `meta` to its metadata (namespace, uid ...)."""
    labels = {"app": name}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": image}]}}
    body: Obj = {"selector": {"matchLabels": labels}, "template": template, **spec}
    if replicas is not None:
        body["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, **(meta or {})}, "spec": body}

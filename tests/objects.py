"""Object bodies the tests (and the benches) build again and again: a ReplicationController and
an apps/v1 workload of one container, an RC of the kubelite/web image serving its pods' names, a
Service, an EndpointSlice of one and a pod's Binding, in the shape the API takes them; `manifest` makes a
`kubectl apply -f -` input of them."""

from __future__ import annotations

import json
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
    # two dicts: a test that adds a template label must not widen the selector with it
    template = {
        "metadata": {"labels": {"app": name}},
        "spec": {"containers": [{"name": "c", "image": image}]},
    }
    body: Obj = {"selector": {"matchLabels": {"app": name}}, "template": template, **spec}
    if replicas is not None:
        body["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, **(meta or {})}, "spec": body}


WEB_IMAGE = "kubelite/web:1.0"  # busybox httpd, serving /www


def web_rc(
    name: str,
    replicas: int,
    serve: str = "hostname > /www/index.html",
    grace: int | None = None,
    pre_stop_sleep: int | None = None,
) -> Obj:
    """An RC of the web image: each pod runs `serve` (by default: its page is its own name, so an
    answer shows which pod gave it), then httpd on port 8080 ("http"), ready once that answers;
    `grace` and a preStop sleep when given."""
    container: Obj = {
        "name": "web",
        "image": WEB_IMAGE,
        "command": ["sh", "-c", f"{serve}; exec httpd -f -p 8080 -h /www"],
        "ports": [{"containerPort": 8080, "name": "http"}],
        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 1},
    }
    if pre_stop_sleep is not None:
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": pre_stop_sleep}}}
    rc = rc_body(name, replicas)
    pod_spec = rc["spec"]["template"]["spec"]
    pod_spec["containers"] = [container]
    if grace is not None:
        pod_spec["terminationGracePeriodSeconds"] = grace
    return rc


def service(name: str, *ports: Obj, **spec: Any) -> Obj:
    """A Service selecting app=<name> on `ports`; `spec` adds to it (type ...)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {**spec, "selector": {"app": name}, "ports": list(ports)},
    }


def endpoint_slice(
    service: str, *ips: str, port: int = 8080, port_name: str = "http", ready: bool = True, name: str = ""
) -> Obj:
    """An IPv4 EndpointSlice of `service` in `default` (named <service>-x unless given): one
    endpoint per IP, all `ready` or not, on one TCP port."""
    return {
        "metadata": {
            "name": name or f"{service}-x",
            "namespace": "default",
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
        "endpoints": [{"addresses": [ip], "conditions": {"ready": ready}} for ip in ips],
    }


def widget_crd(group: str) -> Obj:
    """A CRD of namespaced `widgets` (kind Widget) in `group`, v1 served and stored, any fields kept."""
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema}],
        },
    }


def binding(pod: str, node: str) -> Obj:
    """The body a scheduler posts to pods/<pod>/binding to put the pod on `node`."""
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": pod},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    }


def manifest(*objs: Obj) -> str:
    """A multi-document input for `kubectl apply -f -` (JSON is YAML)."""
    return "\n---\n".join(json.dumps(o) for o in objs)

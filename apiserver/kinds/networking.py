"""Rows of EndpointSlice (discovery.k8s.io/v1), Ingress, IngressClass and NetworkPolicy
(networking.k8s.io/v1), and kube-apiserver's DefaultIngressClass admission plugin.

- EndpointSlice: v1 defaulting gives every port protocol TCP (and an empty name); `addressType`
  never changes.
- Ingress: status is written through /status only; generation counts spec changes. An Ingress
  created with neither `spec.ingressClassName` nor the `kubernetes.io/ingress.class`
  annotation gets the class annotated `ingressclass.kubernetes.io/is-default-class: "true"`
  (the newest when several are), as the DefaultIngressClass plugin does; none marked, none given.
  It reads IngressClasses from the store, so it is a write hook (after validation, before the
  write), like DefaultStorageClass in `kinds/storage.py`. A create naming its class by the
  annotation alone is warned that the annotation is deprecated.
- IngressClass: `kubelite` is the class every server makes at bootstrap (`default_ingress_class`),
  served by the ingress controller built into each agent (kubelet/ingress).
- NetworkPolicy: v1 defaulting (SetDefaults_NetworkPolicy, _NetworkPolicyPort) gives every port
  protocol TCP and an empty `policyTypes` Ingress, plus Egress when there are egress rules; the
  spec and its podSelector are always there (Go never omits them, so clients read `{}`).
  Generation counts spec changes; there is no status (kube 1.28 removed it).
"""

from __future__ import annotations

from typing import Any

from api.errors import invalid
from api.resources import by_plural
from apiserver.kinds import HookContext, Obj, WriteHooks, row
from apiserver.kinds.defaultclass import annotated_true, marked_default, newest_default, stored_classes
from apiserver.validation.networking import (
    validate_endpoint_slice,
    validate_endpoint_slice_update,
    validate_ingress,
    validate_ingress_class,
    validate_ingress_class_update,
    validate_ingress_create,
    validate_ingress_status,
)
from apiserver.validation.networkpolicy import validate_network_policy

DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
KUBELITE_CONTROLLER = "kubelite.io/ingress-nginx"
INGRESS_CLASSES = by_plural("networking.k8s.io", "ingressclasses")


def default_ingress_class() -> Obj:
    """The default class every server makes at bootstrap."""
    return marked_default(
        "networking.k8s.io/v1",
        "IngressClass",
        "kubelite",
        DEFAULT_CLASS_ANNOTATION,
        spec={"controller": KUBELITE_CONTROLLER},
    )


def default_class(classes: list[Obj]) -> Obj | None:
    """The newest class marked default, then by name (kube's GetDefaultClass)."""
    return newest_default(classes, lambda c: annotated_true(c, DEFAULT_CLASS_ANNOTATION))


class IngressAdmission(WriteHooks):
    """On create: the class field and the class annotation exclusive, then DefaultIngressClass."""

    async def claim(self, ctx: HookContext, new: Obj, old: Obj | None) -> list[str]:
        if old is not None:
            return []
        causes = validate_ingress_create(new)
        if causes:
            raise invalid(
                "Ingress", str((new.get("metadata") or {}).get("name") or ""), causes, "networking.k8s.io"
            )
        spec = new.get("spec")
        annotations = (new.get("metadata") or {}).get("annotations") or {}
        if not isinstance(spec, dict) or spec.get("ingressClassName") or CLASS_ANNOTATION in annotations:
            return []
        chosen = default_class(await stored_classes(ctx, INGRESS_CLASSES))
        if chosen is not None:
            spec["ingressClassName"] = chosen["metadata"]["name"]
        return []


def _slice_defaults(obj: Obj) -> None:
    for port in obj.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("name", "")
            port.setdefault("protocol", "TCP")


def _class_defaults(obj: Obj) -> None:
    params = (obj.get("spec") or {}).get("parameters")
    if isinstance(params, dict):
        params.setdefault("scope", "Cluster")  # v1 defaulting


def _ingress_create(obj: Obj) -> None:
    obj["status"] = {"loadBalancer": {}}


def _policy_defaults(obj: Obj) -> None:
    if obj.get("spec") is None:
        obj["spec"] = {}
    spec = obj["spec"]
    if not isinstance(spec, dict):
        return  # refused by the type check
    if spec.get("podSelector") is None:
        spec["podSelector"] = {}
    for direction in ("ingress", "egress"):
        for rule in spec.get(direction) or []:
            for port in (rule.get("ports") or []) if isinstance(rule, dict) else []:
                if isinstance(port, dict) and port.get("protocol") is None:
                    port["protocol"] = "TCP"
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def _ingress_warnings(obj: Obj) -> list[str]:
    """kube's Ingress WarningsOnCreate: the class annotation without `spec.ingressClassName`."""
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    if CLASS_ANNOTATION in (meta.get("annotations") or {}) and spec.get("ingressClassName") is None:
        return [
            f"annotation \"{CLASS_ANNOTATION}\" is deprecated, please use 'spec.ingressClassName' instead"
        ]
    return []


row(
    "endpointslices",
    "discovery.k8s.io",
    defaults=_slice_defaults,
    validate=validate_endpoint_slice,
    validate_update=validate_endpoint_slice_update,
)
row(
    "ingresses",
    "networking.k8s.io",
    status_separate=True,
    generation=True,
    prepare_create=_ingress_create,
    create_warnings=_ingress_warnings,
    validate=validate_ingress,
    validate_status=validate_ingress_status,
    hooks=IngressAdmission(),
)
row(
    "ingressclasses",
    "networking.k8s.io",
    defaults=_class_defaults,
    validate=validate_ingress_class,
    validate_update=validate_ingress_class_update,
)
row(
    "networkpolicies",
    "networking.k8s.io",
    generation=True,
    defaults=_policy_defaults,
    validate=validate_network_policy,
)


def kubernetes_slice(address: str, port: int) -> Obj:
    """The `kubernetes` service's slice, written by the server itself (as kube-apiserver's endpoint
    reconciler does), beside its Endpoints: the service has no selector, so no controller makes it."""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv6" if ":" in address else "IPv4",
        "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    }


async def bootstrap(registry: Any, address: str, port: int) -> None:
    """The default IngressClass, and the `kubernetes` slice following the server's address."""
    slices = by_plural("discovery.k8s.io", "endpointslices")
    assert INGRESS_CLASSES is not None and slices is not None
    await registry.ensure(INGRESS_CLASSES, None, default_ingress_class())
    want = kubernetes_slice(address, port)
    await registry.ensure(slices, "default", want)
    await registry.update(
        slices,
        "default",
        "kubernetes",
        lambda cur, kv: ({**cur, "endpoints": want["endpoints"], "ports": want["ports"]}, None),
    )

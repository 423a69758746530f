"""Admission of the subresource writes whose body is another kind than their resource, as
kube-apiserver admits them: under the endpoint's kind, with the parent's resource.

- pods/binding (CREATE of a v1 Binding) and pods/eviction (CREATE of a policy/v1 Eviction):
  `admit_create`. The object posted, with its kind, apiVersion and namespace set as kube's decoding
  sets them, goes through the mutating admission, then the subresource's own checks (kube's
  BindingREST: a target node; EvictionREST: the name and deleteOptions), then the validating
  admission (policies, webhooks), and only then acts on the pod. A webhook's patch changes what is
  done (the node bound, the eviction's deleteOptions); a refusal leaves the pod as it was. A body
  posted as a policy/v1beta1 Eviction is offered as policy/v1, the endpoint's kind, as kube
  converts it (the two versions have one shape).
- <resource>/scale (UPDATE of an autoscaling/v1 Scale) of deployments, replicasets, statefulsets,
  replicationcontrollers and custom resources with a scale subresource: `ScaleWrite`, the
  registry's `view` of the write (`Registry.update`). The mutating admission sees the Scale asked (a
  PUT's body, or a PATCH applied to the current Scale) and, as oldObject, the current one; the
  spec.replicas it leaves is what is written to the object (kube's scaleUpdatedObjectInfo); the
  validating admission then sees the Scales of the object as it is to be stored and as it was
  (kube's toScaleUpdateValidation). kube's ScaleREST has the same shape for every kind.

The review's kind and requestKind are the body's, its resource and requestResource the parent's,
and subResource the subresource (`apiserver.webhooks.request.attributes`). serviceaccounts/token
(a TokenRequest, not stored) and namespaces/finalize are not offered to admission.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from api.errors import bad_request
from api.jsonutil import as_object
from api.resources import Resource
from apiserver import kinds
from apiserver.crd import hooks as crd_hooks
from apiserver.webhooks import Requester

Obj = dict[str, Any]


class OtherKind(Protocol):
    """How an update of a subresource is admitted as another kind (`Registry.update`'s view)."""

    def asked(self, new: Obj, revision: int) -> Obj:
        """The object the client asked, as admission sees it (`new`: the parent as computed)."""
        ...

    def of(self, obj: Obj, revision: int) -> Obj:
        """The view of a stored or to-be-stored parent."""
        ...

    def apply(self, obj: Obj, admitted: Obj) -> Obj:
        """The parent with what the mutating admission left of the view written to it."""
        ...


# --- pods/binding, pods/eviction -------------------------------------------------------------


def as_kind(res: Resource, subresource: str, obj: Obj, namespace: str | None) -> Obj:
    """The body as admission sees it: the subresource row's kind and apiVersion (kube converts the
    body to the endpoint's kind) and the request's namespace when it gives none."""
    sub = next(s for s in res.subresources if s.name == subresource)
    meta = dict(as_object(obj.get("metadata")))
    if namespace and not meta.get("namespace"):
        meta["namespace"] = namespace
    api_version = f"{sub.group}/{sub.version}" if sub.group else sub.version
    return {**obj, "kind": sub.kind, "apiVersion": api_version, "metadata": meta}


async def admit_create(
    registry: Any,
    by: Requester | None,
    res: Resource,
    subresource: str,
    namespace: str | None,
    name: str,
    obj: Obj,
    dry_run: bool,
    check: Callable[[Obj], object],
) -> Obj:
    """The body of a CREATE of `res`'s `subresource` as admitted: after the mutating admission,
    `check` (the subresource's own validation, raising its error) and the validating admission,
    in kube's order. Raises the refusal; `by` None (a write of the server's own) checks only."""
    if by is None:
        check(obj)
        return obj
    admitted = as_kind(res, subresource, obj, namespace)
    mutated = await registry.admission(
        True, by, "CREATE", res, namespace, name, admitted, None, subresource, dry_run
    )
    assert mutated is not None
    check(mutated)
    await registry.admission(False, by, "CREATE", res, namespace, name, mutated, None, subresource, dry_run)
    return mutated


# --- */scale ---------------------------------------------------------------------------------


def scale_of(res: Resource, obj: Obj, revision: int) -> Obj:
    """The autoscaling/v1 Scale of an object with spec.replicas; its kind's row says the selector."""
    meta = obj.get("metadata") or {}
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    selector = kinds.for_resource(res).scale_selector
    desired, current = crd_hooks.scale_replicas(res.group, res.plural, obj) or (  # a CRD's own paths
        int(spec.get("replicas", 1)),
        int(status.get("replicas") or 0),
    )
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": str(revision),
            "creationTimestamp": meta.get("creationTimestamp"),
        },
        "spec": {"replicas": desired},
        "status": {
            "replicas": current,
            "selector": selector(obj) if selector is not None else "",
        },
    }


def replicas_of(scale: Any) -> int:
    """A Scale's spec.replicas, or the 400 of a body that is not a Scale."""
    if not isinstance(scale, dict):
        raise bad_request("Scale must be an object")
    if scale.get("kind") not in (None, "Scale"):
        raise bad_request(f'{scale.get("kind")} in version "autoscaling/v1" cannot be handled as a Scale')
    r = (scale.get("spec") or {}).get("replicas", 0)
    if not isinstance(r, int) or isinstance(r, bool):
        raise bad_request(f"Scale.spec.replicas must be an integer, got {r!r}")
    return r


def set_replicas(res: Resource, obj: Obj, replicas: int) -> Obj:
    """The object with its desired replicas set (a custom resource's at its specReplicasPath)."""
    if not crd_hooks.set_scale_replicas(res.group, res.plural, obj, replicas):
        obj.setdefault("spec", {})["replicas"] = replicas
    return obj


class ScaleWrite:
    """One PUT or PATCH of `res`'s scale subresource: `ask` (in the registry's mutate) records the
    Scale asked and sets its replicas on the object; the registry admits it through this view."""

    def __init__(self, res: Resource, namespace: str | None) -> None:
        self.res = res
        self.namespace = namespace
        self.scale: Obj | None = None

    def ask(self, cur: Obj, scale: Obj) -> Obj:
        meta = dict(as_object(scale.get("metadata")))
        if self.namespace and not meta.get("namespace"):
            meta["namespace"] = self.namespace
        self.scale = {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": meta,
            "spec": dict(as_object(scale.get("spec"))),
            "status": dict(as_object(scale.get("status"))),
        }
        return set_replicas(self.res, cur, replicas_of(scale))

    def asked(self, new: Obj, revision: int) -> Obj:
        return self.scale if self.scale is not None else scale_of(self.res, new, revision)

    def of(self, obj: Obj, revision: int) -> Obj:
        return scale_of(self.res, obj, revision)

    def apply(self, obj: Obj, admitted: Obj) -> Obj:
        return set_replicas(self.res, obj, replicas_of(admitted))

"""One write as admission sees it, shared by the webhooks and the ValidatingAdmissionPolicies:
its attributes (`attributes`), the shape their rules are matched on (`shape`), and, read at most
once per request and only when a selector or an expression asks, its namespace (`Request`).

A subresource is admitted as its own kind, as kube builds the attributes from the endpoint's kind:
most are written as the object itself (pods/status: kind Pod); those of `AS_OTHER_KIND` carry
another kind (pods/binding a v1 Binding, pods/eviction a policy/v1 Eviction, */scale an
autoscaling/v1 Scale), which is the review's kind and requestKind while its resource stays the
parent's (`apiserver.subadmission` builds their objects). serviceaccounts/token is not offered
(`shape` is None for it), nor namespaces/finalize (its handler gives the registry no Requester).

kube's selectors (k8s.io/apiserver/pkg/admission/plugin/webhook/predicates/{namespace,object}):
an objectSelector matches when the new or the old object's labels do; a namespaceSelector is not
consulted for cluster-scoped objects other than Namespaces, reads a Namespace's own labels when
one is created or updated (the store has not got them yet), and otherwise the stored namespace's.
"""

from __future__ import annotations

from typing import Any

from api.errors import not_found
from api.resources import Resource, Subresource, by_plural
from api.selectors import LabelSelector
from apiserver.webhooks import Requester, matching
from apiserver.webhooks.review import Attributes

Obj = dict[str, Any]
NAMESPACES = by_plural("", "namespaces")
# (group, version, resource, subresource, operation, namespaced): what rules are matched on
Shape = tuple[str, str, str, str, str, bool]
# the subresources whose body is another kind that are offered to admission as that kind
AS_OTHER_KIND = frozenset({"binding", "eviction", "scale"})


def _subresource(res: Resource, name: str) -> Subresource | None:
    return next((s for s in res.subresources if s.name == name), None)


def shape(res: Resource, subresource: str, operation: str, namespace: str) -> Shape | None:
    """The request's shape; None for what admission is never offered (the admissionregistration
    kinds themselves, a subresource whose body is another kind but those of AS_OTHER_KIND)."""
    if matching.exempt(res.group):
        return None
    if subresource:
        sub = _subresource(res, subresource)
        if sub is None or (sub.kind != res.kind and subresource not in AS_OTHER_KIND):
            return None
    return (res.group, res.version, res.plural, subresource, operation, bool(namespace))


def attributes(
    by: Requester,
    operation: str,
    res: Resource,
    subresource: str,
    namespace: str | None,
    name: str,
    new: Obj | None,
    old: Obj | None,
    dry_run: bool,
) -> Attributes:
    """The attributes of a write; a subresource's kind is its row's (Scale, Binding, Eviction)."""
    is_namespace = res.group == "" and res.plural == "namespaces"
    sub = _subresource(res, subresource) if subresource else None
    other = sub is not None and sub.kind != res.kind
    return Attributes(
        operation=operation,
        group=res.group,
        version=res.version,
        kind=sub.kind if sub is not None and other else res.kind,
        resource=res.plural,
        subresource=subresource,
        namespace=name if is_namespace else namespace or "",
        name=name,
        obj=new,
        old=old,
        user=by.user,
        dry_run=dry_run,
        options=by.options,
        kind_gv=(sub.group, sub.version) if sub is not None and other else None,
    )


class Request:
    """One write's attributes and, once read, its namespace."""

    def __init__(self, store: Any, a: Attributes) -> None:
        self.store = store
        self.a = a
        self._namespace: Obj | None = None
        self._labels: dict[str, str] | None = None

    async def namespace(self) -> Obj:
        """The stored namespace the object is in (404 when it does not exist)."""
        if self._namespace is None:
            assert NAMESPACES is not None
            kv = await self.store.get(NAMESPACES.storage_key(self.a.namespace))
            if kv is None:
                raise not_found("namespaces", self.a.namespace)
            self._namespace = kv.obj
        return self._namespace

    async def namespace_labels(self) -> dict[str, str]:
        if self._labels is None:
            a = self.a
            if matching.namespace_labels_from_object(a.group, a.resource, a.subresource, a.operation):
                self._labels = matching.labels_of(a.obj) or {}
            else:
                self._labels = matching.labels_of(await self.namespace()) or {}
        return self._labels

    async def selected(
        self, namespace_selector: LabelSelector | None, object_selector: LabelSelector | None, obj: Obj | None
    ) -> bool:
        a = self.a
        if not matching.object_selected(object_selector, obj, a.old):
            return False
        if namespace_selector is None or not matching.namespace_applies(a.namespace, a.group, a.resource):
            return True
        return namespace_selector.matches(await self.namespace_labels())

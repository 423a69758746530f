"""Which webhooks a request calls: kube's rule, namespaceSelector and objectSelector matching
(k8s.io/apiserver/pkg/admission/plugin/webhook: predicates/rules, namespace, object). Pure.

- A rule matches when its scope, operations, apiGroups, apiVersions and resources all do, `*`
  matching anything. `resources` entries are `resource` or `resource/subresource`: `pods`
  matches the pod itself and not `pods/status`, `pods/*` both, `*/status` every status,
  `*` every resource but no subresource, `*/*` everything. Scope Namespaced matches objects in a
  namespace, Cluster the rest and Namespace objects themselves.
- namespaceSelector: an object not in a namespace (other than a Namespace) always matches; a
  Namespace created or updated is matched by its own labels, anything else by its namespace's.
- objectSelector: matches when the new or the old object's labels do.
- The webhook configurations themselves are never offered to webhooks (kube exempts them, so that
  a broken webhook cannot lock itself in).
"""

from __future__ import annotations

from typing import Any

from api.selectors import LabelSelector

Obj = dict[str, Any]
EXEMPT_GROUP = "admissionregistration.k8s.io"


def _any(items: Any, wanted: str) -> bool:
    return isinstance(items, list) and ("*" in items or wanted in items)


def rule_matches(
    rule: Obj, group: str, version: str, resource: str, subresource: str, operation: str, namespaced: bool
) -> bool:
    """kube's rules.Matcher for one request; `namespaced`: the request names a namespace."""
    is_namespace = group == "" and resource == "namespaces"
    scope = rule.get("scope") or "*"
    if scope == "Namespaced" and (is_namespace or not namespaced):
        return False
    if scope == "Cluster" and not (is_namespace or not namespaced):
        return False
    if not (_any(rule.get("operations"), operation) and _any(rule.get("apiGroups"), group)):
        return False
    if not _any(rule.get("apiVersions"), version):
        return False
    for entry in rule.get("resources") or []:
        res, _, sub = str(entry).partition("/")
        if (res == "*" or res == resource) and (sub == "*" or sub == subresource):
            return True
    return False


def exempt(group: str) -> bool:
    return group == EXEMPT_GROUP


def labels_of(obj: Obj | None) -> dict[str, str] | None:
    if not isinstance(obj, dict):
        return None
    labels = (obj.get("metadata") or {}).get("labels")
    return labels if isinstance(labels, dict) else {}


def object_selected(selector: LabelSelector | None, new: Obj | None, old: Obj | None) -> bool:
    if selector is None:
        return True
    return any(labels is not None and selector.matches(labels) for labels in (labels_of(new), labels_of(old)))


def namespace_labels_from_object(group: str, resource: str, subresource: str, operation: str) -> bool:
    """Whether a namespaceSelector reads the request's own object (a Namespace being created or
    updated: the store does not have its new labels yet) rather than the stored namespace."""
    return group == "" and resource == "namespaces" and not subresource and operation in ("CREATE", "UPDATE")


def namespace_applies(namespace: str, group: str, resource: str) -> bool:
    """Whether a namespaceSelector is consulted at all: not for cluster-scoped objects other than
    Namespaces, which every selector matches."""
    return bool(namespace) or (group == "" and resource == "namespaces")

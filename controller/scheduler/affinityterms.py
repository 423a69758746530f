"""A pod's affinity terms, inter-pod and node, parsed once when the pod enters the scheduler's
cache, so a decision's per-node filters and scores only evaluate ready predicates.

Kept apart from the InterPodAffinity and NodeAffinity plugins (plugins/interpodaffinity.py,
plugins/nodeaffinity.py), which use them per decision, because the cache's PodInfo holds them
and the plugins import the cache.

Node affinity is `spec.nodeSelector` ANDed with `affinity.nodeAffinity
.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`: the terms are ORed, each
term's `matchExpressions` (over node labels: In, NotIn, Exists, DoesNotExist, Gt, Lt) and
`matchFields` (over `metadata.name`: In, NotIn) are ANDed, and a term with neither matches
nothing. The DaemonSet controller pins each of its pods to one node with a `matchFields
metadata.name In [<node>]` term, as Kubernetes does since 1.12, and asks `node_affinity_of` its
own "should this node run a pod"; the PersistentVolume controller matches a volume's node
affinity with `node_selector_term`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from api.selectors import LabelSelector, selector_from_label_selector

NamespaceLabels = Callable[[str], Mapping[str, str]]  # a namespace's labels ({} when unknown)


@dataclass(frozen=True)
class Term:
    selector: LabelSelector
    namespaces: frozenset[str] | None  # None: every namespace
    topology_key: str
    weight: int = 0
    namespace_selector: LabelSelector | None = None  # more namespaces, by their labels (ORed)

    def selects(self, namespace: str, labels: dict[str, str], namespace_labels: NamespaceLabels) -> bool:
        if not self.selector.matches(labels):
            return False
        if self.namespaces is None or namespace in self.namespaces:
            return True
        return self.namespace_selector is not None and self.namespace_selector.matches(
            namespace_labels(namespace)
        )


@dataclass(frozen=True)
class Terms:
    """A pod's four kinds of terms, parsed once when the pod enters the scheduler's cache."""

    affinity: tuple[Term, ...] = ()
    anti_affinity: tuple[Term, ...] = ()
    preferred: tuple[Term, ...] = ()
    preferred_anti: tuple[Term, ...] = ()


def _term(raw: Any, namespace: str, weight: int = 0) -> Term | None:
    if not isinstance(raw, dict) or not raw.get("topologyKey"):
        return None
    selector = selector_from_label_selector(raw.get("labelSelector"))
    if selector is None:  # no selector selects no pod
        return None
    listed = frozenset(raw.get("namespaces") or ())
    by_labels = raw.get("namespaceSelector")
    if by_labels == {}:  # every namespace
        return Term(selector, None, str(raw["topologyKey"]), weight)
    if by_labels:
        return Term(
            selector, listed, str(raw["topologyKey"]), weight, selector_from_label_selector(by_labels)
        )
    return Term(selector, listed or frozenset({namespace}), str(raw["topologyKey"]), weight)


def terms_of(pod: dict[str, Any]) -> Terms | None:
    """The pod's inter-pod (anti-)affinity terms; None when it has none."""
    affinity = ((pod.get("spec") or {}).get("affinity")) or {}
    if not isinstance(affinity, dict) or not (affinity.get("podAffinity") or affinity.get("podAntiAffinity")):
        return None
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"

    def required(kind: str) -> tuple[Term, ...]:
        raw = (affinity.get(kind) or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or []
        return tuple(t for r in raw if (t := _term(r, namespace)) is not None)

    def preferred(kind: str) -> tuple[Term, ...]:
        raw = (affinity.get(kind) or {}).get("preferredDuringSchedulingIgnoredDuringExecution") or []
        return tuple(
            t
            for r in raw
            if isinstance(r, dict)
            and (t := _term(r.get("podAffinityTerm"), namespace, int(r.get("weight") or 0)))
        )

    return Terms(
        required("podAffinity"),
        required("podAntiAffinity"),
        preferred("podAffinity"),
        preferred("podAntiAffinity"),
    )


@dataclass(frozen=True)
class NodeSelectorRequirement:
    """One `matchExpressions` or `matchFields` entry, its values ready for lookups."""

    key: Any  # a label key, or for matchFields the field ("metadata.name" is the only one known)
    operator: str
    values: frozenset[str] = frozenset()
    bound: int | None = None  # Gt/Lt: the number compared with; None (unparsable) matches nothing

    def matches(self, value: str | None) -> bool:
        op = self.operator
        if op == "In":
            return value is not None and value in self.values
        if op == "NotIn":
            return value is None or value not in self.values
        if op == "Exists":
            return value is not None
        if op == "DoesNotExist":
            return value is None
        if op in ("Gt", "Lt") and self.bound is not None:
            try:
                have = int(value or "")
            except ValueError:
                return False
            return have > self.bound if op == "Gt" else have < self.bound
        return False  # an unknown operator, or Gt/Lt without a number to compare with


@dataclass(frozen=True)
class NodeSelectorTerm:
    """ANDed requirements over a node's labels and name; a term with none matches nothing."""

    label_requirements: tuple[NodeSelectorRequirement, ...] = ()
    field_requirements: tuple[NodeSelectorRequirement, ...] = ()

    def matches(self, node_name: str, labels: Mapping[str, str]) -> bool:
        if not self.label_requirements and not self.field_requirements:
            return False
        if not all(r.matches(labels.get(r.key)) for r in self.label_requirements):
            return False
        return all(
            r.matches(node_name if r.key == "metadata.name" else None) for r in self.field_requirements
        )


@dataclass(frozen=True)
class PreferredNodeTerm:
    weight: int
    preference: NodeSelectorTerm


@dataclass(frozen=True)
class NodeAffinity:
    """A pod's nodeSelector and node affinity terms."""

    node_selector: tuple[tuple[str, Any], ...] = ()
    required: tuple[NodeSelectorTerm, ...] | None = None  # None: no required affinity (every node)
    preferred: tuple[PreferredNodeTerm, ...] = ()

    @property
    def restricts(self) -> bool:
        """Some node may be refused: a nodeSelector or required terms (kube's PreFilter Skip)."""
        return bool(self.node_selector) or self.required is not None

    def admits(self, node_name: str, labels: Mapping[str, str]) -> bool:
        """The node satisfies the nodeSelector and one of the required terms."""
        for key, value in self.node_selector:
            if labels.get(key) != value:
                return False
        return self.required is None or any(t.matches(node_name, labels) for t in self.required)

    def preference(self, node_name: str, labels: Mapping[str, str]) -> int:
        """The summed weights of the preferred terms the node matches (kube's NodeAffinity Score)."""
        return sum(p.weight for p in self.preferred if p.preference.matches(node_name, labels))


NO_NODE_AFFINITY = NodeAffinity()


def _requirement(raw: Mapping[str, Any], key: Any) -> NodeSelectorRequirement:
    op, values = str(raw.get("operator")), [str(v) for v in raw.get("values") or []]
    bound = None
    if op in ("Gt", "Lt"):
        try:
            bound = int(values[0])
        except (ValueError, IndexError):
            pass
    return NodeSelectorRequirement(key, op, frozenset(values), bound)


def node_selector_term(raw: Mapping[str, Any]) -> NodeSelectorTerm:
    """A v1.NodeSelectorTerm (`matchExpressions`, `matchFields`)."""
    return NodeSelectorTerm(
        tuple(_requirement(e, e.get("key", "")) for e in raw.get("matchExpressions") or []),
        tuple(_requirement(f, f.get("key")) for f in raw.get("matchFields") or []),
    )


def node_affinity_of(spec: Mapping[str, Any]) -> NodeAffinity:
    """The pod spec's nodeSelector and node affinity."""
    selector, affinity = spec.get("nodeSelector"), spec.get("affinity")
    if not selector and not affinity:
        return NO_NODE_AFFINITY
    na = (affinity or {}).get("nodeAffinity") or {}
    raw_required = na.get("requiredDuringSchedulingIgnoredDuringExecution")
    required = None
    if raw_required is not None:  # present but without terms: no node matches
        raw_terms = raw_required.get("nodeSelectorTerms") or []
        required = tuple(node_selector_term(t) for t in raw_terms)
    preferred = tuple(
        PreferredNodeTerm(int(t.get("weight") or 0), node_selector_term(t.get("preference") or {}))
        for t in na.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        if isinstance(t, dict)
    )
    return NodeAffinity(tuple((selector or {}).items()), required, preferred)

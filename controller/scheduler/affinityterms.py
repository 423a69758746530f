"""A pod's inter-pod affinity terms, parsed once when the pod enters the scheduler's cache.

Kept apart from the InterPodAffinity plugin (plugins/interpodaffinity.py), which uses them per
decision, because the cache's PodInfo holds them and the plugins import the cache.
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

"""A pod's inter-pod affinity terms, parsed once when the pod enters the scheduler's cache.

Kept apart from the InterPodAffinity plugin (plugins/interpodaffinity.py), which uses them per
decision, because the cache's PodInfo holds them and the plugins import the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.selectors import LabelSelector, selector_from_label_selector


@dataclass(frozen=True)
class Term:
    selector: LabelSelector
    namespaces: frozenset[str] | None  # None: every namespace
    topology_key: str
    weight: int = 0

    def selects(self, namespace: str, labels: dict[str, str]) -> bool:
        return (self.namespaces is None or namespace in self.namespaces) and self.selector.matches(labels)


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
    namespaces: frozenset[str] | None = frozenset(raw.get("namespaces") or ()) or frozenset({namespace})
    if raw.get("namespaceSelector") == {}:
        namespaces = None
    return Term(selector, namespaces, str(raw["topologyKey"]), weight)


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

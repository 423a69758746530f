"""Topology spread constraints: keep the pods a selector picks evenly spread over the domains
of a node label (kube's PodTopologySpread plugin).

For each constraint, `prepare` counts the selected pods (in the pod's namespace) per domain,
over the nodes the pod could run on at all (its nodeSelector and required node affinity:
nodeAffinityPolicy Honor; taints are not looked at: nodeTaintsPolicy Ignore) that carry the
topology label. The skew of placing the pod on a node is that node's domain count, plus one if
the pod is selected itself, minus the smallest domain count (0 while fewer domains than
`minDomains` exist). `DoNotSchedule` constraints refuse nodes where the skew would pass
`maxSkew`, and nodes without the label; `ScheduleAnyway` ones score nodes with fewer selected
pods higher. `matchLabelKeys` adds the pod's own values of those labels to the selector.
kube's cluster-default constraints for pods without any are not applied (selectorspread.py
spreads a controller's and a service's pods instead). `count_pod` keeps the counts true when
preemption removes pods from a node or the pods nominated to it are added (kube's PreFilter
AddPod/RemovePod).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from api.selectors import LabelSelector, Requirement, selector_from_label_selector
from controller.scheduler.nodeinfo import NodeInfo, PodInfo
from controller.scheduler.scoring import min_max

UNMATCHED = "node(s) didn't match pod topology spread constraints"
MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)"


@dataclass(frozen=True)
class Constraint:
    max_skew: int
    topology_key: str
    hard: bool  # DoNotSchedule
    selector: LabelSelector | None  # None selects nothing
    min_domains: int = 1


def constraints_of(pod: dict[str, Any]) -> tuple[Constraint, ...]:
    spec = pod.get("spec") or {}
    labels = (pod.get("metadata") or {}).get("labels") or {}
    out = []
    for raw in spec.get("topologySpreadConstraints") or []:
        if not isinstance(raw, dict) or not raw.get("topologyKey"):
            continue
        selector = selector_from_label_selector(raw.get("labelSelector"))
        keys = [k for k in raw.get("matchLabelKeys") or [] if k in labels]
        if selector is not None and keys:
            selector = LabelSelector(
                selector.requirements + tuple(Requirement(k, "=", (labels[k],)) for k in keys)
            )
        out.append(
            Constraint(
                int(raw.get("maxSkew") or 1),
                str(raw["topologyKey"]),
                raw.get("whenUnsatisfiable", "DoNotSchedule") != "ScheduleAnyway",
                selector,
                int(raw.get("minDomains") or 1),
            )
        )
    return tuple(out)


@dataclass
class State:
    constraints: tuple[Constraint, ...]
    counts: list[Counter[str]]  # per constraint: selected pods per domain (every eligible domain present)
    self_match: list[int]


def prepare(pod: PodInfo, nodes: Sequence[NodeInfo]) -> State | None:
    constraints = constraints_of(pod.pod)
    if not constraints:
        return None
    eligible = [n for n in nodes if pod.node_affinity.admits(n.name, n.labels)]
    counts: list[Counter[str]] = []
    self_match = []
    for c in constraints:
        domain: Counter[str] = Counter()
        for n in eligible:
            value = n.labels.get(c.topology_key)
            if value is None:
                continue
            selected = 0
            if c.selector is not None:
                selected = sum(
                    1
                    for p in n.pods.values()
                    if p.namespace == pod.namespace and c.selector.matches(p.labels)
                )
            domain[value] += selected  # a domain with none selected is a domain too
        counts.append(domain)
        self_match.append(int(c.selector is not None and c.selector.matches(pod.labels)))
    return State(constraints, counts, self_match)


def copy_state(st: State | None) -> State | None:
    return None if st is None else replace(st, counts=[Counter(c) for c in st.counts])


def count_pod(pod: PodInfo, st: State | None, placed: PodInfo, node: NodeInfo, delta: int) -> State | None:
    """`st`, prepared for `pod`, once `placed` is added to `node` (delta 1) or removed from it
    (-1), changed in place: the pods counted are those `prepare` counts."""
    if (
        st is None
        or placed.namespace != pod.namespace
        or not pod.node_affinity.admits(node.name, node.labels)
    ):
        return st
    for c, counts in zip(st.constraints, st.counts, strict=True):
        value = node.labels.get(c.topology_key)
        if value is not None and c.selector is not None and c.selector.matches(placed.labels):
            counts[value] += delta
    return st


def unresolvable(pod: PodInfo, node: NodeInfo, reasons: Sequence[str]) -> bool:
    """A node without a constraint's topology label keeps lacking it; a skew, removing pods may mend."""
    return MISSING_LABEL in reasons


def skip(pod: PodInfo) -> bool:
    st = pod.spread
    return st is None or not any(c.hard for c in st.constraints)


def score_skip(pod: PodInfo) -> bool:
    st = pod.spread
    return st is None or all(c.hard for c in st.constraints)


def _min_count(c: Constraint, counts: Counter[str]) -> int:
    if len(counts) < c.min_domains:
        return 0
    return min(counts.values(), default=0)


def filter(pod: PodInfo, node: NodeInfo) -> list[str]:
    st = pod.spread
    if st is None:
        return []
    for c, counts, me in zip(st.constraints, st.counts, st.self_match, strict=True):
        if not c.hard:
            continue
        value = node.labels.get(c.topology_key)
        if value is None:
            return [MISSING_LABEL]
        if counts.get(value, 0) + me - _min_count(c, counts) > c.max_skew:
            return [UNMATCHED]
    return []


def scores(pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[float]:
    """Selected pods in each node's domains over the soft constraints (fewer is better)."""
    st = pod.spread
    if st is None:
        return [0.0] * len(nodes)
    out = []
    for n in nodes:
        s = 0.0
        for c, counts in zip(st.constraints, st.counts, strict=True):
            if c.hard:
                continue
            value = n.labels.get(c.topology_key)
            s += counts.get(value, 0) if value is not None else max(counts.values(), default=0) + 1
        out.append(s)
    return out


def normalize(scores: Sequence[float]) -> list[float]:
    return min_max(scores, lower_is_better=True, flat=100.0)

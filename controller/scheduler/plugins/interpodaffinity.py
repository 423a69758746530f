"""Inter-pod affinity and anti-affinity: place a pod near, or away from, pods with given labels.

kube's InterPodAffinity plugin. A term selects pods by labels in some namespaces (the pod's own
by default; `namespaceSelector: {}` means all) and names a node label, its topologyKey: two
nodes with the same value of that label are one domain (a node, a zone). The filter:
- each required affinity term of the pod needs, in the node's domain for that term, a pod that
  all the pod's required affinity terms select (kube counts a pod only when it matches every
  term); the first pod of a group, which all its terms select, may go where none is yet;
- each required anti-affinity term of the pod forbids the domains holding a selected pod;
- a placed pod's required anti-affinity that selects this pod forbids that pod's domain too
  (the rule holds both ways).
The score, as kube's: each preferred term of the pod adds its weight per selected pod in the
node's domain (subtracts it for anti-affinity), and the placed pods' terms that select the new
pod count towards their own domains: a preferred affinity term its weight, a preferred
anti-affinity term minus its weight, a required affinity term kube's hardPodAffinityWeight (1).
The sums are then scaled to 0..100 across the nodes.

The work is done once per decision by `prepare`, which the scheduler's shell calls: per term,
how many selected pods each domain holds, and what the placed pods' terms give each domain.
The common pod, with no terms, in a cluster where no placed pod has any (kube's
PodsWithAffinity), gets None and the plugin is skipped. `count_pod` keeps a prepared state
true when preemption removes pods from a node, or the pods nominated to it are added (kube's
PreFilter AddPod/RemovePod); `unresolvable` tells preemption which failures removing pods
cannot mend (a missing affinity match: kube does not look for it among the victims).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from controller.scheduler.affinityterms import NamespaceLabels, Term, Terms
from controller.scheduler.nodeinfo import NodeInfo, PodInfo
from controller.scheduler.scoring import min_max

AFFINITY = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
HARD_POD_AFFINITY_WEIGHT = 1  # kube's default: a placed pod's required affinity, as a preference
H = TypeVar("H", bound=Hashable)


@dataclass
class State:
    """Per decision: selected pods per domain, for each term of the pod being placed."""

    terms: Terms
    affinity_counts: list[Counter[str]] = field(default_factory=list)
    first_of_group: bool = False  # no pod anywhere matches the affinity terms, and the pod matches them all
    anti_counts: list[Counter[str]] = field(default_factory=list)
    # (topologyKey, value) -> how many placed pods' required anti-affinity forbid it this pod
    forbidden: Counter[tuple[str, str]] = field(default_factory=Counter)
    preferred_counts: list[Counter[str]] = field(default_factory=list)
    preferred_anti_counts: list[Counter[str]] = field(default_factory=list)
    # topologyKey -> value -> what the placed pods' terms selecting this pod give that domain
    placed_scores: dict[str, Counter[str]] = field(default_factory=dict)
    namespace_labels: NamespaceLabels = lambda namespace: {}


def _domain_counts(term: Term, nodes: Sequence[NodeInfo], namespace_labels: NamespaceLabels) -> Counter[str]:
    counts: Counter[str] = Counter()
    for node in nodes:
        value = node.labels.get(term.topology_key)
        if value is None:
            continue
        n = sum(1 for p in node.pods.values() if term.selects(p.namespace, p.labels, namespace_labels))
        if n:
            counts[value] += n
    return counts


def _all_terms_counts(
    terms: Sequence[Term], nodes: Sequence[NodeInfo], namespace_labels: NamespaceLabels
) -> list[Counter[str]]:
    """Per required affinity term, per domain: the pods that every term selects (kube's
    updateWithAffinityTerms). A pod matching only some terms helps none of them."""
    counts: list[Counter[str]] = [Counter() for _ in terms]
    if not terms:
        return counts
    for node in nodes:
        values = [node.labels.get(t.topology_key) for t in terms]
        if all(v is None for v in values):
            continue
        n = sum(
            1
            for p in node.pods.values()
            if all(t.selects(p.namespace, p.labels, namespace_labels) for t in terms)
        )
        if n:
            for c, value in zip(counts, values, strict=True):
                if value is not None:
                    c[value] += n
    return counts


def _placed_terms(
    pod: PodInfo, with_affinity: Sequence[NodeInfo], namespace_labels: NamespaceLabels
) -> tuple[Counter[tuple[str, str]], dict[str, Counter[str]]]:
    """What the placed pods' terms that select `pod` say of their domains: the (topologyKey,
    value) pairs their required anti-affinity forbids, and per topologyKey and value the score
    their required affinity, preferred affinity and preferred anti-affinity terms give."""
    forbidden: Counter[tuple[str, str]] = Counter()
    scores: dict[str, Counter[str]] = {}

    judged: dict[Term, bool] = {}  # each distinct term is judged once per decision

    def selects(t: Term) -> bool:
        found = judged.get(t)
        if found is None:
            found = judged[t] = t.selects(pod.namespace, pod.labels, namespace_labels)
        return found

    for node in with_affinity:
        for (kind, t), count in node.placed_terms.items():
            value = node.labels.get(t.topology_key)
            if value is None or not selects(t):
                continue
            if kind == "anti_affinity":
                forbidden[(t.topology_key, value)] += count
                continue
            points = {"affinity": HARD_POD_AFFINITY_WEIGHT, "preferred": t.weight}.get(kind, -t.weight)
            scores.setdefault(t.topology_key, Counter())[value] += points * count
    return forbidden, scores


def prepare(
    pod: PodInfo,
    nodes: Sequence[NodeInfo],
    with_affinity: Sequence[NodeInfo],
    namespace_labels: NamespaceLabels = lambda namespace: {},
) -> State | None:
    """What the filter and the score need for `pod`; None when there is nothing to check.
    `with_affinity`: the nodes running a pod with inter-pod terms (the shell keeps them, so that
    a decision does not walk every node for the common case of none); `namespace_labels`: for
    terms with a namespaceSelector."""
    terms = pod.affinity_terms or Terms()
    forbidden, placed_scores = _placed_terms(pod, with_affinity, namespace_labels)
    if pod.affinity_terms is None and not forbidden and not placed_scores:
        return None
    st = State(terms, forbidden=forbidden, placed_scores=placed_scores, namespace_labels=namespace_labels)
    st.affinity_counts = _all_terms_counts(terms.affinity, nodes, namespace_labels)
    st.first_of_group = not any(st.affinity_counts) and all(
        t.selects(pod.namespace, pod.labels, namespace_labels) for t in terms.affinity
    )
    st.anti_counts = [_domain_counts(t, nodes, namespace_labels) for t in terms.anti_affinity]
    st.preferred_counts = [_domain_counts(t, nodes, namespace_labels) for t in terms.preferred]
    st.preferred_anti_counts = [_domain_counts(t, nodes, namespace_labels) for t in terms.preferred_anti]
    return st


def copy_state(st: State | None) -> State | None:
    """A copy `count_pod` may change (what scoring reads is shared, not copied)."""
    if st is None:
        return None
    return replace(
        st,
        affinity_counts=[Counter(c) for c in st.affinity_counts],
        anti_counts=[Counter(c) for c in st.anti_counts],
        forbidden=Counter(st.forbidden),
    )


def _bump(counts: Counter[H], key: H, delta: int) -> None:
    counts[key] += delta
    if counts[key] <= 0:
        del counts[key]


def count_pod(pod: PodInfo, st: State | None, placed: PodInfo, node: NodeInfo, delta: int) -> State | None:
    """`st`, prepared for `pod`, once `placed` is added to `node` (delta 1) or removed from it
    (-1), changed in place. A pod with nothing prepared gets a state when an added pod's
    anti-affinity forbids it a domain."""
    placed_terms = placed.affinity_terms
    if st is None:
        if delta < 0 or placed_terms is None or not placed_terms.anti_affinity:
            return None
        st = State(Terms())
    labels, ns_labels = node.labels, st.namespace_labels
    for t in placed_terms.anti_affinity if placed_terms is not None else ():
        value = labels.get(t.topology_key)
        if value is not None and t.selects(pod.namespace, pod.labels, ns_labels):
            _bump(st.forbidden, (t.topology_key, value), delta)
    own = st.terms
    if own.affinity and all(t.selects(placed.namespace, placed.labels, ns_labels) for t in own.affinity):
        for t, counts in zip(own.affinity, st.affinity_counts, strict=True):
            if (value := labels.get(t.topology_key)) is not None:
                _bump(counts, value, delta)
    for t, counts in zip(own.anti_affinity, st.anti_counts, strict=True):
        value = labels.get(t.topology_key)
        if value is not None and t.selects(placed.namespace, placed.labels, ns_labels):
            _bump(counts, value, delta)
    st.first_of_group = not any(st.affinity_counts) and all(
        t.selects(pod.namespace, pod.labels, ns_labels) for t in own.affinity
    )
    return st


def unresolvable(pod: PodInfo, node: NodeInfo, reasons: Sequence[str]) -> bool:
    return AFFINITY in reasons


def skip(pod: PodInfo) -> bool:
    return pod.affinity is None


score_skip = skip  # nothing prepared: nothing to filter, nothing to score


def filter(pod: PodInfo, node: NodeInfo) -> list[str]:
    st = pod.affinity
    if st is None:
        return []
    labels = node.labels
    found = True
    for t, counts in zip(st.terms.affinity, st.affinity_counts, strict=True):
        value = labels.get(t.topology_key)
        if value is None:  # every topology label must be there, first of a group or not
            return [AFFINITY]
        found = found and counts.get(value, 0) > 0
    if not found and not st.first_of_group:
        return [AFFINITY]
    for i, t in enumerate(st.terms.anti_affinity):
        value = labels.get(t.topology_key)
        if value is not None and st.anti_counts[i].get(value):
            return [ANTI_AFFINITY]
    for key, value in st.forbidden:
        if labels.get(key) == value:
            return [EXISTING_ANTI_AFFINITY]
    return []


def scores(pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[float]:
    st = pod.affinity
    if st is None or not (st.terms.preferred or st.terms.preferred_anti or st.placed_scores):
        return [0.0] * len(nodes)
    out = []
    for node in nodes:
        s = 0.0
        for key, by_value in st.placed_scores.items():
            value = node.labels.get(key)
            if value is not None:
                s += by_value.get(value, 0)
        for t, counts in zip(st.terms.preferred, st.preferred_counts, strict=True):
            value = node.labels.get(t.topology_key)
            s += t.weight * counts.get(value, 0) if value is not None else 0
        for t, counts in zip(st.terms.preferred_anti, st.preferred_anti_counts, strict=True):
            value = node.labels.get(t.topology_key)
            s -= t.weight * counts.get(value, 0) if value is not None else 0
        out.append(s)
    return out


def normalize(scores: Sequence[float]) -> list[float]:
    return min_max(scores)

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
PodsWithAffinity), gets None and the plugin is skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from controller.scheduler.affinityterms import NamespaceLabels, Term, Terms
from controller.scheduler.nodeinfo import NodeInfo, PodInfo
from controller.scheduler.scoring import min_max

AFFINITY = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
HARD_POD_AFFINITY_WEIGHT = 1  # kube's default: a placed pod's required affinity, as a preference


@dataclass
class State:
    """Per decision: selected pods per domain, for each term of the pod being placed."""

    terms: Terms
    affinity_counts: list[Counter[str]] = field(default_factory=list)
    first_of_group: bool = False  # no pod anywhere matches the affinity terms, and the pod matches them all
    anti_counts: list[Counter[str]] = field(default_factory=list)
    forbidden: set[tuple[str, str]] = field(
        default_factory=set
    )  # (topologyKey, value) of placed pods' anti-affinity
    preferred_counts: list[Counter[str]] = field(default_factory=list)
    preferred_anti_counts: list[Counter[str]] = field(default_factory=list)
    # topologyKey -> value -> what the placed pods' terms selecting this pod give that domain
    placed_scores: dict[str, Counter[str]] = field(default_factory=dict)


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
) -> tuple[set[tuple[str, str]], dict[str, Counter[str]]]:
    """What the placed pods' terms that select `pod` say of their domains: the (topologyKey,
    value) pairs their required anti-affinity forbids, and per topologyKey and value the score
    their required affinity, preferred affinity and preferred anti-affinity terms give."""
    forbidden: set[tuple[str, str]] = set()
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
                forbidden.add((t.topology_key, value))
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
    st = State(terms, forbidden=forbidden, placed_scores=placed_scores)
    st.affinity_counts = _all_terms_counts(terms.affinity, nodes, namespace_labels)
    st.first_of_group = not any(st.affinity_counts) and all(
        t.selects(pod.namespace, pod.labels, namespace_labels) for t in terms.affinity
    )
    st.anti_counts = [_domain_counts(t, nodes, namespace_labels) for t in terms.anti_affinity]
    st.preferred_counts = [_domain_counts(t, nodes, namespace_labels) for t in terms.preferred]
    st.preferred_anti_counts = [_domain_counts(t, nodes, namespace_labels) for t in terms.preferred_anti]
    return st


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

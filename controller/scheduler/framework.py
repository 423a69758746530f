"""One scheduling decision, pure: filter the nodes, score the feasible ones, pick the best.

As kube-scheduler in a big cluster, the filtering stops once enough feasible nodes are found
(`nodes_to_find`: all of them under 100 nodes, then 50% falling to 5% as the cluster grows,
never fewer than 100), and each search starts where the previous one stopped (`Rotation`,
kube's nextStartNodeIndex) so every node gets its turn: at 500 nodes a decision filters and
scores about half of them instead of all. Ties are broken at random (one draw among the
best, the same odds as Kubernetes' selectHost) so equal nodes share the load. A pod that fits nowhere gets a `FitError` whose message is the one users know:
"0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable." (preemption then
adds its own verdict: "... preemption: 0/3 nodes are available: 3 No preemption victims found
for incoming pod.").

A node with pods nominated to it (waiting for the victims preemption chose) is filtered with
those of equal or higher priority counted (whatif.failure_with_nominated); a pod nominated to a
node tries that node first and takes it when it fits (kube's evaluateNominatedNode). With no
nomination anywhere, the loop is the plain one.
"""

from __future__ import annotations

import collections
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from controller.scheduler import whatif
from controller.scheduler.nodeinfo import NodeInfo, PodInfo
from controller.scheduler.plugins import FILTERS, SCORERS

Nominated = Mapping[str, Mapping[str, PodInfo]]  # node name -> pod key -> a pod nominated there


@dataclass
class FitError:
    num_nodes: int
    reasons: collections.Counter[str] = field(default_factory=collections.Counter)
    prefilter: str = ""  # why no node was even tried (a PreFilter plugin's verdict)
    postfilter: str = ""  # what preemption made of it ("preemption: ..."), appended

    @property
    def message(self) -> str:
        if self.num_nodes == 0:
            return "no nodes available to schedule pods"
        if self.prefilter:
            out = f"0/{self.num_nodes} nodes are available: {self.prefilter}."
        else:
            hist = sorted(f"{n} {r}" for r, n in self.reasons.items())
            out = f"0/{self.num_nodes} nodes are available: {', '.join(hist)}."
        return f"{out} {self.postfilter}" if self.postfilter else out


MIN_FEASIBLE_NODES = 100  # kube's minFeasibleNodesToFind
MIN_FEASIBLE_PERCENT = 5  # kube's minFeasibleNodesPercentageToFind


def nodes_to_find(total: int) -> int:
    """How many feasible nodes are enough to stop filtering (kube's numFeasibleNodesToFind with
    percentageOfNodesToScore left at its adaptive default)."""
    if total < MIN_FEASIBLE_NODES:
        return total
    percent = max(MIN_FEASIBLE_PERCENT, 50 - total // 125)
    return max(MIN_FEASIBLE_NODES, total * percent // 100)


@dataclass
class Rotation:
    """Where the next search through the nodes starts (kube's nextStartNodeIndex)."""

    start: int = 0


def feasible_nodes(
    pod: PodInfo,
    nodes: Sequence[NodeInfo],
    filters: Sequence[Any] = FILTERS,
    want: int | None = None,
    rotation: Rotation | None = None,
    nominated: Nominated | None = None,
) -> tuple[list[NodeInfo], collections.Counter[str]]:
    """The nodes that pass every filter, and why the others did not. With `want`, the search
    stops at that many feasible nodes, starting at `rotation.start` and moving it past the
    nodes it examined. `nominated`: the pods nominated to each node, counted where they hold room."""
    fits: list[NodeInfo] = []
    reasons: collections.Counter[str] = collections.Counter()
    total = len(nodes)
    start = rotation.start % total if rotation is not None and total else 0
    want = total if want is None else want
    # kube's PreFilter Skip: a filter with nothing to check for this pod is not run per node
    checks = [p.filter for p in filters if getattr(p, "skip", None) is None or not p.skip(pod)]
    examined = 0
    for i in range(total):
        node = nodes[(start + i) % total]
        examined += 1
        why: Sequence[str] = ()
        if nominated and node.name in nominated:
            failed = whatif.failure_with_nominated(pod, node, nominated[node.name].values(), filters)
            why = failed[1] if failed is not None else ()
        else:
            for check in checks:
                why = check(pod, node)
                if why:
                    break
        if why:
            reasons.update(why)
        else:
            fits.append(node)
            if len(fits) >= want:
                break
    if rotation is not None and total:
        rotation.start = (start + examined) % total
    return fits, reasons


def score_nodes(
    pod: PodInfo, nodes: Sequence[NodeInfo], scorers: Sequence[tuple[Any, int]] = SCORERS
) -> list[float]:
    total = [0.0] * len(nodes)
    for plugin, weight in scorers:
        skip = getattr(plugin, "score_skip", None)
        if skip is not None and skip(pod):  # nothing to score for this pod: all nodes equal
            continue
        raw = plugin.scores(pod, nodes)
        norm = getattr(plugin, "normalize", None)
        if norm is not None:
            raw = norm(raw)
        total = [t + weight * s for t, s in zip(total, raw, strict=True)]
    return total


def select_host(nodes: Sequence[NodeInfo], scores: Sequence[float], rng: random.Random) -> NodeInfo:
    """The best-scored node, ties broken uniformly at random. kube's selectHost samples the ties
    one by one, a random draw each; one draw among all of them gives each the same odds, and on
    identical nodes (hundreds tie) the draws were a sixth of a decision."""
    best = max(scores)
    ties = [i for i, s in enumerate(scores) if s == best]
    return nodes[ties[0] if len(ties) == 1 else ties[rng.randrange(len(ties))]]


def schedule(
    pod: PodInfo,
    nodes: Sequence[NodeInfo],
    rng: random.Random | None = None,
    rotation: Rotation | None = None,
    nominated: Nominated | None = None,
    nominated_node: NodeInfo | None = None,
) -> NodeInfo | FitError:
    """The node for `pod`, or why none fits (every node examined then: the reasons count them all).
    `nominated_node`: the node the pod is nominated to, taken first if it fits."""
    if nominated_node is not None and nominated_node.node:
        fits, _ = feasible_nodes(pod, [nominated_node], FILTERS, nominated=nominated)
        if fits:
            return nominated_node
    fits, reasons = feasible_nodes(pod, nodes, FILTERS, nodes_to_find(len(nodes)), rotation, nominated)
    if not fits:
        return FitError(len(nodes), reasons)
    if len(fits) == 1:
        return fits[0]
    return select_host(fits, score_nodes(pod, fits), rng or random.Random())

"""Preemption, pure: when a pod fits no node, which lower-priority pods to remove and from which
node (kube-scheduler's DefaultPreemption PostFilter and framework/preemption's Evaluator).

`preempt` is the whole decision, over the scheduler's snapshot of the nodes:
1. Is the pod eligible? Not with `preemptionPolicy: Never`; not while a lower-priority pod the
   scheduler preempted is still terminating on the node the pod is nominated to (it waits for
   that room), unless that node has meanwhile become unsuitable in a way removing pods cannot
   mend.
2. Which nodes could removing pods help? The filters run again on each node (with its nominated
   pods); a node refused by a plugin whose failure no removal mends (cordon, node name, node
   affinity, taints, volumes, a missing topology label, an unmatched pod affinity, a request
   beyond the node's size: each plugin's `unresolvable`) is skipped.
3. A dry run: from a random offset, victims are chosen on each remaining node (victims.py)
   until max(10% of them, 100) candidates are found, at least one of them breaking no budget
   (kube's minCandidateNodesPercentage and minCandidateNodesAbsolute defaults).
4. The best candidate, by kube's pickOneNodeForPreemption: the fewest budget violations, then
   the lowest priority of its most important victim, the smallest sum of victim priorities, the
   fewest victims, the latest start among its most important victims; then the first found.

The `Outcome` tells the shell what to do: nominate the pod to the node (its
`status.nominatedNodeName`), remove the victims, and clear the nominations of lower-priority pods
waiting for that node; or clear the pod's own nomination when preemption cannot help; or leave
it as it is when the pod is not eligible. Its `message` is what kube appends to the
FailedScheduling event ("preemption: 0/3 nodes are available: 3 No preemption victims found for
incoming pod."); on success there is none.
"""

from __future__ import annotations

import collections
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from controller.scheduler import whatif
from controller.scheduler.framework import FitError, Nominated
from controller.scheduler.nodeinfo import NodeInfo, PodInfo
from controller.scheduler.victims import Budget, Victims, select_victims

NEVER = "not eligible due to preemptionPolicy=Never."
TERMINATING = "not eligible due to a terminating pod on the nominated node."
NOT_HELPFUL = "Preemption is not helpful for scheduling"
MIN_CANDIDATE_PERCENT = 10  # kube's DefaultPreemptionArgs defaults
MIN_CANDIDATE_NODES = 100
PRIORITY_OFFSET = 2**31  # kube adds MaxInt32+1 to each priority it sums: all of them count >= 0


@dataclass
class Outcome:
    message: str = ""  # what the FailedScheduling message gets appended ("preemption: ..."); "" on success
    nominate: str | None = None  # the node to nominate the pod to; "" clears its nomination; None keeps it
    victims: list[PodInfo] = field(default_factory=list)
    denominate: list[PodInfo] = field(default_factory=list)  # lower-priority pods nominated to that node


def terminating_by_preemption(pod: PodInfo) -> bool:
    """Being deleted after the scheduler preempted it (kube's podTerminatingByPreemption)."""
    obj = pod.pod
    if not (obj.get("metadata") or {}).get("deletionTimestamp"):
        return False
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == "DisruptionTarget":
            return c.get("status") == "True" and c.get("reason") == "PreemptionByScheduler"
    return False


def ineligible(pod: PodInfo, nominated_node: NodeInfo | None, node_unresolvable: bool) -> str:
    """Why the pod may not preempt now ("" when it may): kube's PodEligibleToPreemptOthers."""
    if (pod.pod.get("spec") or {}).get("preemptionPolicy") == "Never":
        return NEVER
    if nominated_node is not None and not node_unresolvable:
        for p in nominated_node.pods.values():
            if p.priority < pod.priority and terminating_by_preemption(p):
                return TERMINATING
    return ""


def candidates_wanted(potential: int) -> int:
    """How many candidates the dry run looks for (kube's calculateNumCandidates)."""
    return min(max(potential * MIN_CANDIDATE_PERCENT // 100, MIN_CANDIDATE_NODES), potential)


def dry_run(
    pod: PodInfo,
    potential: Sequence[NodeInfo],
    budgets: Sequence[Budget],
    nominated: Nominated,
    offset: int,
    want: int,
    now: float,
) -> tuple[list[Victims], dict[str, tuple[str, ...]]]:
    """The candidates found from `offset` on, those breaking no budget first, and why each node
    examined without success is none (kube's DryRunPreemption)."""
    clean: list[Victims] = []
    breaking: list[Victims] = []
    why: dict[str, tuple[str, ...]] = {}
    for i in range(len(potential)):
        node = potential[(offset + i) % len(potential)]
        got = select_victims(pod, node, budgets, (nominated.get(node.name) or {}).values(), now)
        if not isinstance(got, Victims):
            why[node.name] = got
        elif not got.pods:  # fits as it is: not a preemption's to decide
            why[node.name] = (f'expected at least one victim pod on node "{node.name}"',)
        else:
            found = breaking if got.violations else clean
            if len(found) < want:
                found.append(got)
            if clean and len(clean) + len(breaking) >= want:
                break
    return clean + breaking, why


def pick_one(candidates: Sequence[Victims], now: float) -> Victims:
    """The best candidate by kube's criteria, in order (the first found among equals)."""
    criteria: tuple[Callable[[Victims], float], ...] = (
        lambda c: -c.violations,
        lambda c: -c.top_priority,
        lambda c: -sum(p.priority + PRIORITY_OFFSET for p in c.pods),
        lambda c: -len(c.pods),
        lambda c: c.earliest_top_start(now),
    )
    left = list(candidates)
    for score in criteria:
        if len(left) == 1:
            break
        best = max(score(c) for c in left)
        left = [c for c in left if score(c) == best]
    return left[0]


def _not_found(nodes: int, why: collections.Counter[str]) -> Outcome:
    """No candidate: kube's FitError of the preemption, and the pod's nomination cleared."""
    return Outcome("preemption: " + FitError(nodes, why).message, nominate="")


def preempt(
    pod: PodInfo,
    nodes: Sequence[NodeInfo],
    budgets: Sequence[Budget],
    nominated: Nominated,
    nominated_node: str = "",
    prefilter_failed: bool = False,
    rng: random.Random | None = None,
    now: float = 0.0,
) -> Outcome:
    """What preemption does for `pod`, which fits none of `nodes` (nominated: the pods nominated to
    each node; nominated_node: the pod's own nomination; prefilter_failed: no node was even
    tried, so none can be helped)."""
    if (pod.pod.get("spec") or {}).get("preemptionPolicy") == "Never":
        return Outcome("preemption: " + NEVER)
    potential: list[NodeInfo] = []
    mine: NodeInfo | None = None
    mine_unresolvable = False
    for node in nodes:
        # a node that fits (none should: the pod fitted nowhere) is no candidate either, and as
        # kube reads a node missing from the filters' verdicts, unresolvable
        failed = None if prefilter_failed else whatif.failure_with_nominated(pod, node, _at(nominated, node))
        hopeless = failed is None or whatif.unresolvable(failed, pod, node)
        if node.name == nominated_node:
            mine, mine_unresolvable = node, hopeless
        if not hopeless:
            potential.append(node)
    why_not = ineligible(pod, mine, mine_unresolvable)
    if why_not:
        return Outcome("preemption: " + why_not)
    if not potential:
        return _not_found(len(nodes), collections.Counter({NOT_HELPFUL: len(nodes)}))
    offset = (rng or random.Random()).randrange(len(potential))
    candidates, why = dry_run(
        pod, potential, budgets, nominated, offset, candidates_wanted(len(potential)), now
    )
    if not candidates:
        counts = collections.Counter(r for reasons in why.values() for r in reasons)
        if len(nodes) > len(why):
            counts[NOT_HELPFUL] += len(nodes) - len(why)
        return _not_found(len(nodes), counts)
    best = pick_one(candidates, now)
    lower = [p for p in _at(nominated, best.node) if p.priority < pod.priority and p.key != pod.key]
    return Outcome("", best.node, best.pods, lower)


def _at(nominated: Nominated, node: NodeInfo | str) -> list[PodInfo]:
    name = node if isinstance(node, str) else node.name
    return list((nominated.get(name) or {}).values())

"""Which pods to preempt on one node so that a pod fits (kube's DefaultPreemption
SelectVictimsOnNode), pure.

Every pod on the node with a priority strictly below the preemptor's may be a victim; a pod of
equal or higher priority never is. All of them are removed at once, and if the pod still does
not fit (the filters with the node's nominated pods, whatif.py) the node is no candidate: the
filters' reasons say why. Otherwise as many as possible are given back ("reprieved"), the most
important first (higher priority, then the one running longer: kube's MoreImportantPod), each
kept only if the pod still fits beside it: first the pods whose eviction would break a
PodDisruptionBudget, then the others, so that a budget is broken only where nothing else makes
room. What is not given back are the victims, the most important first, with the count of those
breaking a budget.

Which pods would break a budget is kube's filterPodsWithPDBViolation: going down the candidates
by importance, each budget of the pod's namespace whose selector matches its labels (an empty
selector matches none here, as in kube's preemption) loses one of its `disruptionsAllowed`; a pod
that takes one below zero breaks it. A pod already in a budget's `disruptedPods` (an eviction
the API server granted) costs that budget nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from api import jsonutil
from api.selectors import LabelSelector, selector_from_label_selector
from controller.scheduler.nodeinfo import NodeInfo, PodInfo
from controller.scheduler.whatif import WhatIf, failure_with_nominated

Obj = dict[str, Any]

NO_VICTIMS = "No preemption victims found for incoming pod"


@dataclass(frozen=True)
class Budget:
    """What preemption reads of a PodDisruptionBudget."""

    namespace: str
    selector: LabelSelector | None  # None: selects nothing
    allowed: int  # status.disruptionsAllowed
    disrupted: frozenset[str] = frozenset()  # status.disruptedPods: names already being evicted

    def covers(self, pod: PodInfo) -> bool:
        return (
            self.namespace == pod.namespace
            and self.selector is not None
            and self.selector.matches(pod.labels)
        )


def budget_of(pdb: Obj) -> Budget:
    meta, spec, status = pdb.get("metadata") or {}, pdb.get("spec") or {}, pdb.get("status") or {}
    try:
        selector = selector_from_label_selector(spec.get("selector"))
    except ValueError:  # an invalid selector matches no pod
        selector = None
    if selector is not None and selector.empty():
        selector = None
    allowed = status.get("disruptionsAllowed")
    return Budget(
        str(meta.get("namespace") or ""),
        selector,
        allowed if isinstance(allowed, int) and not isinstance(allowed, bool) else 0,
        frozenset(status.get("disruptedPods") or {}),
    )


def start_time(pod: PodInfo, now: float) -> float:
    """When the pod started (status.startTime), or `now` for one not started yet (kube's GetPodStartTime)."""
    started = (pod.pod.get("status") or {}).get("startTime")
    if started:
        try:
            return jsonutil.parse_time(str(started)).timestamp()
        except ValueError:
            pass
    return now


def importance(now: float) -> Callable[[PodInfo], tuple[int, float]]:
    """A sort key putting the most important pod first: higher priority, then started earlier."""
    return lambda pod: (-pod.priority, start_time(pod, now))


def split_by_budgets(
    pods: Sequence[PodInfo], budgets: Sequence[Budget]
) -> tuple[list[PodInfo], list[PodInfo]]:
    """`pods` (in order) as (those whose eviction breaks a budget, the others)."""
    allowed = [b.allowed for b in budgets]
    violating: list[PodInfo] = []
    others: list[PodInfo] = []
    for pod in pods:
        breaks = False
        if pod.labels:  # a pod without labels matches no budget
            for i, b in enumerate(budgets):
                if b.covers(pod) and (pod.pod.get("metadata") or {}).get("name") not in b.disrupted:
                    allowed[i] -= 1
                    breaks = breaks or allowed[i] < 0
        (violating if breaks else others).append(pod)
    return violating, others


@dataclass
class Victims:
    """A candidate: the node, the pods to remove there (most important first) and how many of
    them break a budget."""

    node: str
    pods: list[PodInfo]
    violations: int = 0

    @property
    def top_priority(self) -> int:
        return self.pods[0].priority

    def earliest_top_start(self, now: float) -> float:
        """The earliest start among the victims of the highest priority (kube's GetEarliestPodStartTime)."""
        top = self.top_priority
        return min((start_time(p, now) for p in self.pods if p.priority == top), default=math.inf)


def select_victims(
    pod: PodInfo, node: NodeInfo, budgets: Sequence[Budget], nominated: Iterable[PodInfo], now: float
) -> Victims | tuple[str, ...]:
    """The victims on `node` that let `pod` fit there, or the reasons it cannot be made to fit.
    `nominated`: the pods nominated to the node."""
    lower = [p for p in node.pods.values() if p.priority < pod.priority]
    if not lower:
        return (NO_VICTIMS,)
    nominated = list(nominated)
    view = WhatIf(pod, node)
    for p in lower:
        view.remove(p)
    failed = failure_with_nominated(view.pod, view.node, nominated)
    if failed is not None:
        return failed[1]
    key = importance(now)
    lower.sort(key=key)
    violating, others = split_by_budgets(lower, budgets)
    victims: list[PodInfo] = []
    violations = 0
    for group in (violating, others):
        for p in group:
            view.add(p)
            if failure_with_nominated(view.pod, view.node, nominated) is not None:
                view.remove(p)  # the pod does not fit beside it: it goes
                victims.append(p)
                violations += group is violating
    if violating and others:
        victims.sort(key=key)
    return Victims(node.name, victims, violations)

"""A node judged with some pods added or removed, the scheduler's cache left untouched.

Two questions need it. Preemption asks whether the pod would fit on a node without some of the
pods there; filtering asks whether the pod still fits once the pods nominated to the node
(waiting for room that preemption is making for them) are counted. Either way the node's
running totals are copied (`NodeInfo.snapshot`), and so are the per-decision states of the
plugins that count pods across a domain (inter-pod affinity, topology spread), which their
`count_pod` keeps true as kube's PreFilter AddPod/RemovePod extensions do.

`first_failure` runs the filters as `framework.feasible_nodes` does and names the plugin that
refused, so that preemption can tell a failure removing pods may mend from one it cannot (the
plugin's `unresolvable`: kube's UnschedulableAndUnresolvable status).

`failure_with_nominated` is kube's RunFilterPluginsWithNominatedPods: the pods nominated to the
node with a priority at least the pod's are added and the filters run; if they pass, the filters
run again without them (a nominated pod may be what satisfied an affinity), and both must pass.
So a pod never takes the room held for a nominated pod of equal or higher priority, while a
lower-priority nomination holds nothing against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from controller.scheduler.nodeinfo import NodeInfo, PodInfo
from controller.scheduler.plugins import FILTERS, interpodaffinity, podtopologyspread

Failure = tuple[Any, tuple[str, ...]]  # the plugin that refused the node, and its reasons


class WhatIf:
    """`pod` and a copy of `node` as they would be with some pods added to or removed from it."""

    def __init__(self, pod: PodInfo, node: NodeInfo) -> None:
        self.pod = replace(
            pod,
            affinity=interpodaffinity.copy_state(pod.affinity),
            spread=podtopologyspread.copy_state(pod.spread),
        )
        self.node = node.snapshot()

    def add(self, placed: PodInfo) -> None:
        self.node.add_pod(placed)
        self._count(placed, 1)

    def remove(self, placed: PodInfo) -> None:
        self.node.remove_pod(placed.key)
        self._count(placed, -1)

    def _count(self, placed: PodInfo, delta: int) -> None:
        pod = self.pod
        pod.affinity = interpodaffinity.count_pod(pod, pod.affinity, placed, self.node, delta)
        pod.spread = podtopologyspread.count_pod(pod, pod.spread, placed, self.node, delta)


def first_failure(pod: PodInfo, node: NodeInfo, filters: Sequence[Any] = FILTERS) -> Failure | None:
    """The first filter refusing `node` and why; None when every filter passes."""
    for plugin in filters:
        skip = getattr(plugin, "skip", None)
        if skip is not None and skip(pod):
            continue
        why = plugin.filter(pod, node)
        if why:
            return plugin, tuple(why)
    return None


def unresolvable(failure: Failure, pod: PodInfo, node: NodeInfo) -> bool:
    """Whether removing pods from the node cannot mend `failure` (the plugin's `unresolvable`:
    True, or a function of the pod, the node and the reasons; resolvable when it says nothing)."""
    plugin, reasons = failure
    judge = getattr(plugin, "unresolvable", False)
    return bool(judge(pod, node, reasons)) if callable(judge) else bool(judge)


def nominated_above(pod: PodInfo, nominated: Iterable[PodInfo]) -> list[PodInfo]:
    """The nominated pods that hold room against `pod`: of equal or higher priority, not itself."""
    return [p for p in nominated if p.priority >= pod.priority and p.key != pod.key]


def failure_with_nominated(
    pod: PodInfo, node: NodeInfo, nominated: Iterable[PodInfo] = (), filters: Sequence[Any] = FILTERS
) -> Failure | None:
    """`first_failure` with the node's nominated pods counted, as kube runs the filters."""
    above = nominated_above(pod, nominated)
    if above:
        view = WhatIf(pod, node)
        for p in above:
            view.add(p)
        failed = first_failure(view.pod, view.node, filters)
        if failed is not None:
            return failed
    return first_failure(pod, node, filters)

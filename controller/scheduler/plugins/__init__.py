"""Scheduler plugins: each module one rule with a pure `filter(pod, node)` or `scores(pod, nodes)`.

A filter returns the reasons a node cannot take the pod (empty: it fits), worded as
Kubernetes words them, because users read them in FailedScheduling events. Scores are 0..100
(higher is better), one per candidate node, computed in one call (per node, the calls cost more
than the arithmetic); a plugin may also define `normalize(scores)` when its raw values
only make sense relative to the other nodes', and a filter `skip(pod)` when it has nothing to
check for that pod (kube's PreFilter Skip: it is then not run per node). The order of FILTERS is the order they run
in; the first failing one decides a node's reason, as in the scheduler framework.
"""

from __future__ import annotations

from controller.scheduler.plugins import (
    interpodaffinity,
    leastallocated,
    nodeaffinity,
    nodename,
    nodeports,
    noderesources,
    nodeunschedulable,
    podtopologyspread,
    selectorspread,
    tainttoleration,
    volumebinding,
)

FILTERS = (
    nodeunschedulable,
    nodename,
    nodeaffinity,
    tainttoleration,
    nodeports,
    noderesources,
    volumebinding,
    podtopologyspread,
    interpodaffinity,
)
SCORERS = (  # (plugin, weight): kube's default weights where kube has the plugin
    (leastallocated, 1),
    (selectorspread, 2),
    (nodeaffinity, 2),
    (podtopologyspread, 2),
    (interpodaffinity, 2),
)

"""What a pod asks for in all: kube's PodRequests/PodLimits rule, once, for every caller.

A pod's containers run side by side, so their amounts add up. Init containers run one after
another before them, so the pod needs at least the largest one's. Native sidecars (init
containers with `restartPolicy: Always`) change both: a sidecar keeps running beside the app
containers, so it adds to the sum; and each init container that starts after some sidecars runs
beside them, so its need is its own plus theirs. kube's component-helpers
(`resource.PodRequests` / `PodLimits`) compute exactly that, and the scheduler (fit, least
allocated), ResourceQuota and the LimitRanger's Pod items all count a pod by it; here the
scheduler (`controller.scheduler.nodeinfo`) and the quota and LimitRange sums (`api.quota`) call
`aggregate` with their own per-container amounts (integers for the scheduler, Decimals for
quota, defaults for missing requests where the scheduler's non-zero scoring wants them). A pod's
`overhead` is not in it: callers add it where kube does (the scheduler and quota, not the
LimitRanger).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from api.podstatus import is_restartable_init

N = TypeVar("N", int, Decimal)  # an amount
Obj = dict[str, Any]


def _add(into: dict[str, N], amounts: Mapping[str, N]) -> None:
    for name, value in amounts.items():
        into[name] = into[name] + value if name in into else value


def _at_least(into: dict[str, N], amounts: Mapping[str, N]) -> None:
    for name, value in amounts.items():
        if name not in into or value > into[name]:
            into[name] = value


def aggregate(spec: Obj, amounts: Callable[[Obj], Mapping[str, N]]) -> dict[str, N]:
    """The pod's total of each resource `amounts(container)` reports, by kube's rule (above)."""
    total: dict[str, N] = {}
    for c in spec.get("containers") or []:
        if isinstance(c, dict):
            _add(total, amounts(c))
    sidecars: dict[str, N] = {}  # the sidecars started so far, running beside what follows
    inits: dict[str, N] = {}  # the largest need of any init step
    for c in spec.get("initContainers") or []:
        if not isinstance(c, dict):
            continue
        own = amounts(c)
        if is_restartable_init(c):
            _add(total, own)
            _add(sidecars, own)
            step = dict(sidecars)
        else:
            step = dict(own)
            _add(step, sidecars)
        _at_least(inits, step)
    _at_least(total, inits)
    return total

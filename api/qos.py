"""A pod's QoS class (Guaranteed, Burstable, BestEffort), one rule for every component.

The API server sets `status.qosClass` on create, the kubelet reports it in each status and
picks its eviction order by it, and kubectl's `describe` prints it for a pod that has no status
yet: three answers to one question, so they come from here. The rule is kube's (GetPodQOS):
only cpu and memory count, and only positive quantities; requests and limits are summed over the
app and init containers (ephemeral containers have no resources); a pod is BestEffort when
nothing is set, Guaranteed when every container limits both cpu and memory and the summed requests
equal the summed limits, else Burstable. Requests default to limits at the API server, so a
container that sets only limits is Guaranteed once stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from api.quantity import quantity_or_none

QOSClass = Literal["Guaranteed", "Burstable", "BestEffort"]
_COMPUTE = ("cpu", "memory")


def _add_positive(total: dict[str, Decimal], amounts: Any) -> set[str]:
    """Add `amounts`' positive cpu and memory to `total`; the names that were positive."""
    found: set[str] = set()
    if not isinstance(amounts, Mapping):
        return found
    for name in _COMPUTE:
        q = quantity_or_none(amounts.get(name)) if name in amounts else None
        if q is not None and q > 0:
            total[name] = total.get(name, Decimal(0)) + q
            found.add(name)
    return found


def qos_class(spec: Mapping[str, Any]) -> QOSClass:
    """The QoS class of a pod with this spec (kube's rule, see the module's docstring)."""
    requests: dict[str, Decimal] = {}
    limits: dict[str, Decimal] = {}
    guaranteed = True
    for container in [*(spec.get("containers") or ()), *(spec.get("initContainers") or ())]:
        resources = container.get("resources") if isinstance(container, Mapping) else None
        if not resources:  # the common case of a pod that sets nothing: no quantity parsed
            guaranteed = False
            continue
        _add_positive(requests, resources.get("requests"))
        if len(_add_positive(limits, resources.get("limits"))) < len(_COMPUTE):
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and requests.keys() == limits.keys() and all(requests[n] == limits[n] for n in requests):
        return "Guaranteed"
    return "Burstable"

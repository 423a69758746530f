"""Status conditions: find one by type, and the Ready condition every component asks about.

A pod's and a node's Ready condition have the same shape (`status.conditions[]` with
`type: Ready`, `status: "True" | "False" | "Unknown"`), and kube treats a missing one as
Unknown (not ready). The controllers, the scheduler, the kubelet, kubectl and the API server's
tables all ask "is it ready?": this is the one answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from api.shapes import Condition

READY = "Ready"
# how long a pod tolerates a not-ready or unreachable node unless it says (kube-apiserver's
# DefaultTolerationSeconds admission, which the API server applies; the node lifecycle
# controller's --pod-eviction-timeout stands in for it when it evicts)
DEFAULT_TOLERATION_SECONDS = 300


def transition_time(previous: Mapping[str, Any] | None, status: str, now: str) -> str:
    """A condition's lastTransitionTime: the previous one's while its status stays, else `now`
    (metav1's SetStatusCondition rule)."""
    if previous is not None and previous.get("status") == status and previous.get("lastTransitionTime"):
        return str(previous["lastTransitionTime"])
    return now


def condition(obj: Mapping[str, Any], type_: str) -> Condition | None:
    """The object's `status.conditions[]` entry of that type (a copy), or None."""
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return cast(Condition, dict(c))
    return None


def ready_status(obj: Mapping[str, Any]) -> str:
    """The Ready condition's status: "True", "False", or "Unknown" (also when there is none).
    No copy is made: controllers ask this of every pod they own on each sync."""
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c.get("type") == READY:
            return str(c.get("status") or "Unknown")
    return "Unknown"


def is_ready(obj: Mapping[str, Any]) -> bool:
    """A pod or node whose Ready condition is True."""
    return ready_status(obj) == "True"

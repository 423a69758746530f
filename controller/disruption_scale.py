"""How many pods a PodDisruptionBudget expects: its pods' controllers' scale, as kube counts it.

A budget's `minAvailable` as a number is about the pods there are, so it expects the pods its
selector finds. A percentage, or any `maxUnavailable`, is a share of what *should* run: kube sums
the desired replicas of the controllers of the selected pods (each controller once; a
ReplicaSet's Deployment stands for the ReplicaSet), so that a pod still missing in a rollout
or a crash counts as expected. kube's finders are kept: ReplicationController, a Deployment
through its ReplicaSet, a ReplicaSet of its own, StatefulSet. A pod with no controller is
unmanaged (counted by none, reported in an event); a pod whose controller is not one of these
(a Job, a DaemonSet, a custom resource) leaves the count unknown, and the budget then allows no
disruption (kube's failSafe: condition SyncFailed) until that changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from api import jsonutil
from api.conditions import condition, transition_time
from api.informer import Informer
from controller.base import Obj, controller_ref, meta

UNMANAGED_MESSAGE = (
    "Pods selected by this PodDisruptionBudget (selector: {selector}) were found to be unmanaged. "
    "As a result, the status of the PDB cannot be calculated correctly, which may result in undefined "
    'behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.'
)


class ControllerScale(NamedTuple):
    uid: str  # the controller counted (a Deployment for its ReplicaSets' pods)
    replicas: int


ScaleOf = Callable[[str, Obj], ControllerScale | None]  # (namespace, controllerRef) -> its scale


class NoControllerError(Exception):
    """A selected pod's controller is none whose scale is known."""


def needs_scale(spec: Obj) -> bool:
    """Whether the budget's expected count is its controllers' scale (kube's getExpectedPodCount)."""
    if spec.get("maxUnavailable") is not None:
        return True
    return isinstance(spec.get("minAvailable"), str)


def expected_scale(pods: Iterable[Obj], scale_of: ScaleOf) -> tuple[int, list[str]]:
    """The summed replicas of the pods' controllers, and the names of the pods without one
    (kube's getExpectedScale). Raises NoControllerError for a controller of unknown scale."""
    scales: dict[str, int] = {}
    unmanaged: list[str] = []
    for pod in pods:
        m = meta(pod)
        ref = controller_ref(pod)
        if ref is None:
            unmanaged.append(str(m.get("name")))
            continue
        found = scale_of(str(m.get("namespace") or ""), ref)
        if found is None:
            raise NoControllerError(f'found no controllers for pod "{m.get("name")}"')
        scales[found.uid] = found.replicas
    return sum(scales.values()), unmanaged


def _replicas(obj: Obj) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1  # kube's default


def _owned(informer: Informer | None, namespace: str, ref: Obj) -> Obj | None:
    """The object `ref` names in the cache, if its uid is the one referred to."""
    if informer is None:
        return None
    obj = informer.get(f"{namespace}/{ref.get('name')}")
    return obj if obj is not None and meta(obj).get("uid") == ref.get("uid") else None


def scale_finder(
    rcs: Informer | None,
    replicasets: Informer | None,
    deployments: Informer | None,
    statefulsets: Informer | None,
) -> ScaleOf:
    """kube's finders over the controller manager's caches."""

    def scale_of(namespace: str, ref: Obj) -> ControllerScale | None:
        kind, group = ref.get("kind"), str(ref.get("apiVersion") or "").rpartition("/")[0]
        if kind == "ReplicationController" and group == "":
            rc = _owned(rcs, namespace, ref)
            return ControllerScale(str(ref["uid"]), _replicas(rc)) if rc is not None else None
        if kind == "StatefulSet" and group == "apps":
            sts = _owned(statefulsets, namespace, ref)
            return ControllerScale(str(ref["uid"]), _replicas(sts)) if sts is not None else None
        if kind == "ReplicaSet" and group == "apps":
            rs = _owned(replicasets, namespace, ref)
            if rs is None:
                return None
            owner = controller_ref(rs)
            if owner is not None and owner.get("kind") == "Deployment":
                deployment = _owned(deployments, namespace, owner)
                return ControllerScale(str(owner["uid"]), _replicas(deployment)) if deployment else None
            return ControllerScale(str(ref["uid"]), _replicas(rs))
        return None

    return scale_of


def fail_safe_status(pdb: Obj, message: str) -> Obj:
    """kube's failSafe: the status as it was, no disruption allowed, DisruptionAllowed False for
    SyncFailed with the reason the count could not be made."""
    status = dict(pdb.get("status") or {})
    status["disruptionsAllowed"] = 0
    kept = [c for c in status.get("conditions") or [] if c.get("type") != "DisruptionAllowed"]
    since = transition_time(condition(pdb, "DisruptionAllowed"), "False", jsonutil.now_str())
    status["conditions"] = [
        *kept,
        {
            "type": "DisruptionAllowed",
            "status": "False",
            "reason": "SyncFailed",
            "message": message,
            "observedGeneration": status.get("observedGeneration", 0),
            "lastTransitionTime": since,
        },
    ]
    return status

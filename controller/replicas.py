"""Pure decisions of the replication controller: which pods count, which to delete, what status.

Nothing here does I/O, so every rule Kubernetes' replica_set.go applies is unit-tested on
plain dicts: pods with a deletionTimestamp or a finished phase do not count; surplus pods go
in the order unscheduled < pending < not ready < ready for less time < more restarts <
newest; creations come in slow-start batches 1, 2, 4, ... capped per sync; the status is
recomputed from the pods observed, never edited in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from api import jsonutil
from api.conditions import READY, condition, is_ready
from api.selectors import LabelSelector
from api.shapes import Condition, ObjectMeta, OwnerReference

Obj = dict[str, Any]

BURST_REPLICAS = 500  # at most this many creations or deletions per sync


def _meta(o: Obj) -> ObjectMeta:
    return o.get("metadata") or {}


def is_active(pod: Obj) -> bool:
    return not _meta(pod).get("deletionTimestamp") and (pod.get("status") or {}).get("phase") not in (
        "Succeeded",
        "Failed",
    )


def ready_condition(pod: Obj) -> Condition | None:
    return condition(pod, READY)


def is_available(pod: Obj, min_ready_seconds: int, now: dt.datetime) -> bool:
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    c = ready_condition(pod) or {}
    since = str(c.get("lastTransitionTime") or "")
    return bool(since) and jsonutil.parse_time(since) + dt.timedelta(seconds=min_ready_seconds) <= now


def _restarts(pod: Obj) -> int:
    return sum(
        int(s.get("restartCount") or 0) for s in (pod.get("status") or {}).get("containerStatuses") or []
    )


_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def deletion_rank(pod: Obj) -> tuple[Any, ...]:
    """Sort key: the pod to delete first sorts first (controller.ActivePods' Less)."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    ready = is_ready(pod)
    ready_since = (ready_condition(pod) or {}).get("lastTransitionTime") or ""
    created = _meta(pod).get("creationTimestamp") or ""
    return (
        1 if spec.get("nodeName") else 0,
        _PHASE_RANK.get(status.get("phase") or "Pending", 0),
        1 if ready else 0,
        _neg(ready_since) if ready else "",  # ready for less time first
        -_restarts(pod),
        _neg(created),  # newest first
        _meta(pod).get("name", ""),
    )


def _neg(timestamp: str) -> tuple[int, ...]:
    """Invert an RFC 3339 string so that later sorts first."""
    return tuple(-ord(ch) for ch in timestamp)


def pods_to_delete(pods: Sequence[Obj], n: int) -> list[Obj]:
    return sorted(pods, key=deletion_rank)[: max(0, n)]


def slow_start_batches(total: int, initial: int = 1) -> Iterator[int]:
    """Batch sizes 1, 2, 4, ... summing to `total`: a failing create stops a storm early."""
    size, left = initial, total
    while left > 0:
        b = min(size, left)
        yield b
        left -= b
        size *= 2


def owner_ref(rc: Obj) -> OwnerReference:
    m = _meta(rc)
    return {
        "apiVersion": rc.get("apiVersion", "v1"),
        "kind": rc.get("kind", "ReplicationController"),
        "name": m.get("name", ""),
        "uid": m.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def owned_pod(
    owner: Obj,
    ref: Mapping[str, Any],
    labels: dict[str, Any],
    spec: Obj,
    annotations: Mapping[str, Any] | None = None,
    name: str = "",
    generate_name: str = "",
    **more_meta: Any,
) -> Obj:
    """A pod an owner creates from its template (kube's GetPodFromTemplate): `name`, else a
    generated one (`generate_name`, by default "<owner>-"), in the owner's namespace, with these
    labels, the owner's controller reference `ref`, `more_meta` (finalizers) and the annotations."""
    m = _meta(owner)
    md: Obj = {"name": name} if name else {"generateName": generate_name or f"{m.get('name')}-"}
    md.update(namespace=m.get("namespace"), labels=labels, ownerReferences=[ref], **more_meta)
    if annotations:
        md["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}


def pod_from_template(rc: Obj) -> Obj:
    tmpl = (rc.get("spec") or {}).get("template") or {}
    tm = tmpl.get("metadata") or {}
    return owned_pod(
        rc, owner_ref(rc), dict(tm.get("labels") or {}), dict(tmpl.get("spec") or {}), tm.get("annotations")
    )


def claim(rc: Obj, pods: Sequence[Obj], selector: LabelSelector) -> tuple[list[Obj], list[Obj], list[Obj]]:
    """Split the namespace's pods into (owned and matching, orphans to adopt, owned to release).

    Pods controlled by another UID (even an old RC of the same name) are never touched.
    """
    uid = _meta(rc).get("uid")
    owned, adopt, release = [], [], []
    deleting = bool(_meta(rc).get("deletionTimestamp"))
    for p in pods:
        labels = _meta(p).get("labels") or {}
        ref = next((r for r in _meta(p).get("ownerReferences") or [] if r.get("controller")), None)
        matches = selector.matches(labels)
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if matches:
                owned.append(p)
            elif is_active(p):
                release.append(p)
        elif matches and not deleting and is_active(p):
            adopt.append(p)
    return owned, adopt, release


def fully_labeled(pod: Obj, template_labels: Mapping[str, str]) -> bool:
    labels = _meta(pod).get("labels") or {}
    return all(labels.get(k) == v for k, v in template_labels.items())


def calculate_status(rc: Obj, active: Sequence[Obj], manage_error: str | None, now: dt.datetime) -> Obj:
    """The RC's status from its active pods, keeping a failure condition's transition time."""
    spec = rc.get("spec") or {}
    tlabels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    old = rc.get("status") or {}
    ready = [p for p in active if is_ready(p)]  # once per pod: an RC may own thousands
    status: Obj = {
        "replicas": len(active),
        "fullyLabeledReplicas": sum(1 for p in active if fully_labeled(p, tlabels)),
        "readyReplicas": len(ready),
        "availableReplicas": len(ready)
        if min_ready <= 0
        else sum(1 for p in ready if is_available(p, min_ready, now)),
        "observedGeneration": int(_meta(rc).get("generation") or 0),
    }
    conds = [c for c in old.get("conditions") or [] if c.get("type") != "ReplicaFailure"]
    if manage_error:
        prev = next((c for c in old.get("conditions") or [] if c.get("type") == "ReplicaFailure"), None)
        same = prev is not None and prev.get("message") == manage_error
        conds.append(
            {
                "type": "ReplicaFailure",
                "status": "True",
                "reason": "FailedCreate" if "creat" in manage_error else "FailedDelete",
                "message": manage_error,
                "lastTransitionTime": prev.get("lastTransitionTime")
                if same and prev
                else jsonutil.format_time(now),
            }
        )
    if conds:
        status["conditions"] = conds
    return status


def status_changed(old: Obj | None, new: Obj) -> bool:
    o = old or {}
    return any(
        int(o.get(k) or 0) != new.get(k, 0)
        for k in (
            "replicas",
            "fullyLabeledReplicas",
            "readyReplicas",
            "availableReplicas",
            "observedGeneration",
        )
    ) or (o.get("conditions") or []) != (new.get("conditions") or [])

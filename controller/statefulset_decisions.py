"""The StatefulSet controller's decisions, pure: which ordinal to create or delete, what status.

As Kubernetes' stateful_set_control.go:
- Pods are `<set>-<ordinal>` for ordinals start..start+replicas-1 (`spec.ordinals.start`), with
  hostname = the pod name and subdomain = `spec.serviceName` (a stable DNS name under the
  headless service), and labels `statefulset.kubernetes.io/pod-name`,
  `apps.kubernetes.io/pod-index` and `controller-revision-hash` (= the revision's name).
- OrderedReady: create the lowest missing ordinal and wait until it is Running and Ready (and
  available for minReadySeconds) before the next; scale down from the highest ordinal, one at a
  time, only while every other pod is healthy. Parallel: create and delete all at once.
- Failed pods are deleted and recreated under the same name.
- RollingUpdate: from the highest ordinal down to `partition`, delete one pod that is not at
  the update revision, and wait for it to come back healthy before the next. Pods below the
  partition are (re)created at the current revision. OnDelete: only pods deleted by the user
  come back at the update revision.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field

from controller import history
from controller.base import Obj, meta
from controller.replicas import is_available, is_ready, owned_pod
from controller.statefulset_claims import with_claim_volumes

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def ordinal_of(set_name: str, pod: Obj) -> int | None:
    m = re.fullmatch(re.escape(set_name) + r"-(\d+)", meta(pod).get("name", ""))
    return int(m.group(1)) if m else None


def template_of(revision: Obj) -> Obj:
    """The pod template a revision recorded (its data minus the `$patch` directive)."""
    tmpl = copy.deepcopy(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    tmpl.pop("$patch", None)
    return tmpl


def pod_for(sts: Obj, ordinal: int, revision: Obj, claims_served: bool = True) -> Obj:
    m = meta(sts)
    tmpl = template_of(revision)
    tm = tmpl.get("metadata") or {}
    name = f"{m.get('name')}-{ordinal}"
    labels = history.with_label(tm.get("labels"), meta(revision).get("name", ""))
    labels[POD_NAME_LABEL] = name
    labels[POD_INDEX_LABEL] = str(ordinal)
    spec = dict(tmpl.get("spec") or {})
    spec["hostname"] = name
    if (sts.get("spec") or {}).get("serviceName"):
        spec["subdomain"] = sts["spec"]["serviceName"]
    spec = with_claim_volumes(spec, sts, ordinal, claims_served)
    return owned_pod(sts, history.owner_ref(sts), labels, spec, tm.get("annotations"), name=name)


def is_running_and_ready(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and is_ready(pod)


def _healthy(pod: Obj, min_ready: int, now: dt.datetime) -> bool:
    return (
        not meta(pod).get("deletionTimestamp")
        and is_running_and_ready(pod)
        and is_available(pod, min_ready, now)
    )


@dataclass
class SetPlan:
    create: list[tuple[int, str]] = field(default_factory=list)  # (ordinal, revision name)
    delete: list[Obj] = field(default_factory=list)
    status: Obj = field(default_factory=dict)


def decide(sts: Obj, pods: list[Obj], current: str, update: str, now: dt.datetime) -> SetPlan:
    """One sync of `sts`, given its pods and the names of its current and update revisions."""
    spec = sts.get("spec") or {}
    name = meta(sts).get("name", "")
    replicas = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    start = int((spec.get("ordinals") or {}).get("start") or 0)
    monotonic = (spec.get("podManagementPolicy") or "OrderedReady") != "Parallel"
    min_ready = int(spec.get("minReadySeconds") or 0)
    strategy = spec.get("updateStrategy") or {}
    rolling = (strategy.get("type") or "RollingUpdate") == "RollingUpdate"
    partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
    plan = SetPlan()
    slots: dict[int, Obj] = {}
    condemned: list[tuple[int, Obj]] = []
    for p in pods:
        i = ordinal_of(name, p)
        if i is None:
            continue
        if start <= i < start + replicas:
            slots[i] = p
        else:
            condemned.append((i, p))
    condemned.sort(key=lambda ip: ip[0], reverse=True)
    plan.status = _status(sts, pods, current, update, min_ready, now)

    waiting = False
    for i in range(start, start + replicas):
        slot = slots.get(i)
        if (
            slot is not None
            and (slot.get("status") or {}).get("phase") in ("Failed", "Succeeded")
            and not meta(slot).get("deletionTimestamp")
        ):
            plan.delete.append(slot)  # recreated under the same name once it is gone
            waiting = True
            if monotonic:
                break
            continue
        if slot is None:
            rev = current if rolling and i < partition else update
            plan.create.append((i, rev))
            if monotonic:
                waiting = True
                break
            continue
        if monotonic and not _healthy(slot, min_ready, now):
            waiting = True
            break
    if monotonic and waiting:
        return plan
    for _, p in condemned:
        if meta(p).get("deletionTimestamp"):
            if monotonic:
                return plan
            continue
        plan.delete.append(p)
        if monotonic:
            return plan
    if not rolling or condemned:
        return plan
    for i in range(start + replicas - 1, max(start, partition) - 1, -1):
        target = slots.get(i)
        if target is None:
            return plan
        if history.pod_revision(target) != update and not meta(target).get("deletionTimestamp"):
            plan.delete.append(target)
            return plan
        if not _healthy(target, min_ready, now):
            return plan
    return plan


def _status(sts: Obj, pods: list[Obj], current: str, update: str, min_ready: int, now: dt.datetime) -> Obj:
    st: Obj = {
        "observedGeneration": int(meta(sts).get("generation") or 0),
        "replicas": 0,
        "readyReplicas": 0,
        "currentReplicas": 0,
        "updatedReplicas": 0,
        "availableReplicas": 0,
        "currentRevision": current,
        "updateRevision": update,
    }
    for p in pods:
        st["replicas"] += 1
        if is_running_and_ready(p):
            st["readyReplicas"] += 1
            if is_available(p, min_ready, now):
                st["availableReplicas"] += 1
        if not meta(p).get("deletionTimestamp"):
            rev = history.pod_revision(p)
            st["currentReplicas"] += rev == current
            st["updatedReplicas"] += rev == update
    old = sts.get("status") or {}
    spec = sts.get("spec") or {}
    rolling = ((spec.get("updateStrategy") or {}).get("type") or "RollingUpdate") == "RollingUpdate"
    if rolling and st["updatedReplicas"] == st["replicas"] and st["readyReplicas"] == st["replicas"]:
        st["currentRevision"], st["currentReplicas"] = update, st["updatedReplicas"]
    if old.get("collisionCount") is not None:
        st["collisionCount"] = old["collisionCount"]
    else:
        st["collisionCount"] = 0
    for k in ("readyReplicas", "currentReplicas", "updatedReplicas"):
        if not st[k]:
            st.pop(k)
    if old.get("conditions"):
        st["conditions"] = old["conditions"]
    return st

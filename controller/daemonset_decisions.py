"""The DaemonSet controller's decisions, pure: which nodes get a pod, which pods go, what status.

As Kubernetes' pkg/controller/daemon:
- A node should run the daemon pod when it satisfies the template's nodeSelector and required
  node affinity and every NoSchedule/NoExecute taint is tolerated, counting the tolerations
  the controller adds to every daemon pod (not-ready and unreachable NoExecute; disk-, memory-,
  pid-pressure and unschedulable NoSchedule; network-unavailable for host-network pods). A pod
  may keep running on a node whose NoSchedule taints it does not tolerate; an untolerated
  NoExecute taint evicts it.
- Each pod is pinned to its node through a required node affinity `matchFields metadata.name`
  term and placed by the scheduler.
- Failed pods are deleted (and replaced); surplus pods on one node go, oldest kept.
- RollingUpdate with maxSurge 0 deletes old pods while fewer than maxUnavailable desired nodes
  lack an available pod (unavailable old pods go at once); with maxSurge it starts the new pod
  beside the old one and deletes the old once the new is available. OnDelete replaces nothing.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from controller import history
from controller.base import Obj, meta
from controller.replicas import is_available, is_ready, owned_pod
from controller.scheduler.affinityterms import NodeAffinity, node_affinity_of
from controller.scheduler.plugins.tainttoleration import tolerates

GENERATION_LABEL = "pod-template-generation"
TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"


def _toleration(key: str, effect: str) -> Obj:
    return {"key": key, "operator": "Exists", "effect": effect}


DAEMON_TOLERATIONS = (
    _toleration("node.kubernetes.io/not-ready", "NoExecute"),
    _toleration("node.kubernetes.io/unreachable", "NoExecute"),
    _toleration("node.kubernetes.io/disk-pressure", "NoSchedule"),
    _toleration("node.kubernetes.io/memory-pressure", "NoSchedule"),
    _toleration("node.kubernetes.io/pid-pressure", "NoSchedule"),
    _toleration("node.kubernetes.io/unschedulable", "NoSchedule"),
)
NETWORK_UNAVAILABLE = _toleration("node.kubernetes.io/network-unavailable", "NoSchedule")


def daemon_tolerations(spec: Obj) -> list[Obj]:
    """The template's tolerations plus the ones every daemon pod gets (no duplicates)."""
    out = [dict(t) for t in spec.get("tolerations") or []]
    extra = [*DAEMON_TOLERATIONS, *([NETWORK_UNAVAILABLE] if spec.get("hostNetwork") else [])]
    for t in extra:
        if not any(
            o.get("key") == t["key"] and o.get("effect") == t["effect"] and o.get("operator") == "Exists"
            for o in out
        ):
            out.append(dict(t))
    return out


def pin_to_node(spec: Obj, node: str) -> Obj:
    """The pod spec with every required node-affinity term's matchFields set to this node's name."""
    spec = copy.deepcopy(spec)
    req = {"key": "metadata.name", "operator": "In", "values": [node]}
    na = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
    required = na.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        terms = [{"matchFields": [req]}]
    else:
        terms = [dict(t, matchFields=[dict(req)]) for t in terms]
    na["requiredDuringSchedulingIgnoredDuringExecution"] = dict(required, nodeSelectorTerms=terms)
    return spec


def pinned_node(pod: Obj) -> str | None:
    """The node a daemon pod is meant for: its nodeName, else its matchFields term."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    na = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    for t in (na.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []:
        for f in t.get("matchFields") or []:
            if (
                f.get("key") == "metadata.name"
                and f.get("operator") == "In"
                and len(f.get("values") or []) == 1
            ):
                return str(f["values"][0])
    return None


def should_run(ds: Obj, node: Obj, affinity: NodeAffinity | None = None) -> tuple[bool, bool]:
    """(should a new daemon pod go to this node, may an existing one keep running there).
    `affinity`: the template's, parsed once by a caller that asks for every node."""
    spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    m = meta(node)
    affinity = affinity if affinity is not None else node_affinity_of(spec)
    if not affinity.admits(m.get("name", ""), m.get("labels") or {}):
        return False, False
    tolerations = daemon_tolerations(spec)
    run = cont = True
    for taint in (node.get("spec") or {}).get("taints") or []:
        effect = taint.get("effect")
        if effect not in ("NoSchedule", "NoExecute") or tolerates(tolerations, taint):
            continue
        run = False
        if effect == "NoExecute":
            cont = False
    return run, cont


def pod_for(ds: Obj, node: str, hash_: str) -> Obj:
    m = meta(ds)
    tmpl = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
    tm = tmpl.get("metadata") or {}
    labels = history.with_label(tm.get("labels"), hash_)
    # the API server keeps the template's generation in an annotation (bumped on template changes only)
    labels[GENERATION_LABEL] = str(
        (m.get("annotations") or {}).get(TEMPLATE_GENERATION) or m.get("generation") or 1
    )
    spec = pin_to_node(tmpl.get("spec") or {}, node)
    spec["tolerations"] = daemon_tolerations(spec)
    return owned_pod(ds, history.owner_ref(ds), labels, spec, tm.get("annotations"))


def _scaled(value: Any, total: int, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


@dataclass
class DaemonPlan:
    create: list[str] = field(default_factory=list)  # node names
    delete: list[Obj] = field(default_factory=list)
    failed: list[Obj] = field(default_factory=list)  # failed pods among `delete` (they get an event)
    status: Obj = field(default_factory=dict)


def _oldest_first(pods: list[Obj]) -> list[Obj]:
    return sorted(pods, key=lambda p: (meta(p).get("creationTimestamp") or "", meta(p).get("name", "")))


def decide(ds: Obj, nodes: list[Obj], pods: list[Obj], hash_: str, now: dt.datetime) -> DaemonPlan:
    spec = ds.get("spec") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    strategy = spec.get("updateStrategy") or {}
    rolling = (strategy.get("type") or "RollingUpdate") == "RollingUpdate"
    ru = strategy.get("rollingUpdate") or {}
    plan = DaemonPlan()
    by_node: dict[str, list[Obj]] = {}
    for p in pods:
        if meta(p).get("deletionTimestamp"):
            continue
        node = pinned_node(p)
        if node is not None:
            by_node.setdefault(node, []).append(p)
    names = {meta(n).get("name", "") for n in nodes}
    for node_name, ps in by_node.items():  # unscheduled pods pinned to nodes that no longer exist
        if node_name not in names:  # (bound ones are the pod GC's: it force-deletes them)
            plan.delete.extend(p for p in ps if not (p.get("spec") or {}).get("nodeName"))
    desired: dict[str, list[Obj]] = {}  # nodes that should run the pod -> their remaining pods
    misscheduled = 0
    affinity = node_affinity_of(((ds.get("spec") or {}).get("template") or {}).get("spec") or {})
    for n in nodes:
        name = meta(n).get("name", "")
        run, cont = should_run(ds, n, affinity)
        ps = by_node.get(name, [])
        failed = [p for p in ps if (p.get("status") or {}).get("phase") in ("Failed", "Succeeded")]
        plan.delete.extend(failed)
        plan.failed.extend(failed)
        ps = [p for p in ps if p not in failed]
        if run:
            if not ps and not failed:
                plan.create.append(name)
            elif len(ps) > 1:
                old = _oldest_first([p for p in ps if history.pod_revision(p) != hash_])
                new = _oldest_first([p for p in ps if history.pod_revision(p) == hash_])
                keep = ([old[0]] if old else []) + ([new[0]] if new else [])
                if not (rolling and _scaled(ru.get("maxSurge"), 1, 0) > 0):
                    keep = _oldest_first(ps)[:1]
                plan.delete.extend(p for p in ps if p not in keep)
                ps = keep
            desired[name] = ps
        elif ps and not cont:
            plan.delete.extend(ps)
            misscheduled += 1
        elif ps:
            misscheduled += 1  # a NoSchedule taint it does not tolerate: may stay, counts as misscheduled
    if rolling:
        _rolling_update(plan, desired, hash_, ru, min_ready, now)
    plan.status = _status(ds, desired, misscheduled, hash_, min_ready, now)
    return plan


def _rolling_update(
    plan: DaemonPlan, desired: dict[str, list[Obj]], hash_: str, ru: Obj, min_ready: int, now: dt.datetime
) -> None:
    total = len(desired)
    max_surge = _scaled(ru.get("maxSurge"), total, 0)
    max_unavailable = _scaled(ru.get("maxUnavailable"), total, 1)
    if max_surge == 0 and max_unavailable == 0:
        max_unavailable = 1
    gone = set(map(id, plan.delete))
    if max_surge == 0:
        unavailable = sum(
            1 for ps in desired.values() if not any(is_available(p, min_ready, now) for p in ps)
        )
        for node in sorted(desired):
            for p in desired[node]:
                if history.pod_revision(p) == hash_ or id(p) in gone:
                    continue
                if not is_available(p, min_ready, now):
                    plan.delete.append(p)  # not serving anyway: replacing it costs no availability
                elif unavailable < max_unavailable:
                    plan.delete.append(p)
                    unavailable += 1
        return
    surging = sum(1 for ps in desired.values() if len({history.pod_revision(p) == hash_ for p in ps}) == 2)
    for node in sorted(desired):
        ps = desired[node]
        old = [p for p in ps if history.pod_revision(p) != hash_]
        new = [p for p in ps if history.pod_revision(p) == hash_]
        if not old:
            continue
        if new:
            if any(is_available(p, min_ready, now) for p in new):
                plan.delete.extend(old)
        elif not any(is_available(p, min_ready, now) for p in old):
            plan.delete.extend(old)  # nothing to keep serving: replace in place
        elif surging < max_surge:
            plan.create.append(node)
            surging += 1


def _status(
    ds: Obj, desired: dict[str, list[Obj]], misscheduled: int, hash_: str, min_ready: int, now: dt.datetime
) -> Obj:
    current = ready = available = updated = 0
    for ps in desired.values():
        if not ps:
            continue
        current += 1
        newest = sorted(ps, key=lambda p: meta(p).get("creationTimestamp") or "", reverse=True)[0]
        ready += is_ready(newest)
        available += is_available(newest, min_ready, now)
        updated += any(history.pod_revision(p) == hash_ for p in ps)
    old = ds.get("status") or {}
    status: Obj = {
        "currentNumberScheduled": current,
        "numberMisscheduled": misscheduled,
        "desiredNumberScheduled": len(desired),
        "numberReady": ready,
        "observedGeneration": int(meta(ds).get("generation") or 0),
        "updatedNumberScheduled": updated,
        "numberAvailable": available,
    }
    if len(desired) - available > 0:
        status["numberUnavailable"] = len(desired) - available
    if not available:
        status.pop("numberAvailable")
    if old.get("collisionCount"):
        status["collisionCount"] = old["collisionCount"]
    if old.get("conditions"):
        status["conditions"] = old["conditions"]
    return status

"""Node lifecycle: notice dead kubelets, fence their nodes, evict their pods.

A node is alive while its kubelet renews its Lease (`kube-node-lease/<node>`) or posts a Ready
condition with a new `lastHeartbeatTime`. Like Kubernetes we time heartbeats on *our* clock
(when we saw the value change), never by comparing the kubelet's timestamps with ours. After
`grace` seconds without one: Ready (and every condition) goes Unknown, the node is tainted
`node.kubernetes.io/unreachable:NoExecute`, its pods' Ready condition goes False (so endpoints
drop them). `decide` is the pure part.

Eviction is kube's taint eviction controller: a pod on a node with a NoExecute taint it does not
tolerate is deleted at once; one that tolerates every such taint stays for the shortest
`tolerationSeconds` among the tolerations it uses (for ever when none says), counted from when
the taint was first seen (`toleration_left`). DaemonSet pods tolerate the lifecycle taints for
ever; every other pod gets the API server's default 300 s, which this controller reads as its
`eviction_timeout` (kubelite's --pod-eviction-timeout: a test cluster shortens it).

A pass finds a node's pods through `PodsByNode`: the pod cache grouped by `spec.nodeName` once,
when the first node of the pass needs its pods, so a pass costs pods + nodes, not pods for each
tainted or unreachable node.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from api import jsonutil
from api.conditions import DEFAULT_TOLERATION_SECONDS, ready_status
from api.errors import ApiError
from api.events import NORMAL, WARNING, EventRecorder
from api.informer import Informer, key_of
from controller.base import ApiClient, Obj, meta, patch_pod_status, run_every
from controller.scheduler.plugins.tainttoleration import toleration_matches

LEASE_NAMESPACE = "kube-node-lease"
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
LIFECYCLE_TAINTS = (UNREACHABLE, NOT_READY)


@dataclass
class Health:
    fingerprint: tuple[Any, ...]
    probe_time: float  # local clock: when the heartbeat last changed


@dataclass
class Decision:
    mark_unknown: bool = False
    taints: list[str] | None = None  # the lifecycle taints the node should carry, when that changes
    pods_not_ready: bool = False
    notes: list[str] = field(default_factory=list)


def has_taint(node: Obj, key: str) -> bool:
    return any(t.get("key") == key for t in (node.get("spec") or {}).get("taints") or [])


def heartbeat(node: Obj, lease: Obj | None) -> tuple[Any, ...]:
    ready: Obj = next(
        (c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), {}
    )
    return ((lease or {}).get("spec", {}).get("renewTime"), ready.get("lastHeartbeatTime"))


def observe(h: Health | None, node: Obj, lease: Obj | None, now: float) -> Health:
    fp = heartbeat(node, lease)
    if h is None:
        return Health(fp, now)
    if fp != h.fingerprint:
        return Health(fp, now)
    return h


def decide(node: Obj, h: Health, now: float, grace: float) -> Decision:
    """Pure: what to do about `node` now."""
    d = Decision()
    stale = now - h.probe_time > grace
    status = "Unknown" if stale else ready_status(node)
    if stale:
        d.mark_unknown = ready_status(node) != "Unknown" or not _all_unknown(node)
        d.pods_not_ready = True
    # NoExecute taints follow the Ready condition, as Kubernetes' tainting pass does; a node
    # whose kubelet has not reported yet (no Ready condition, not stale) is left alone
    has_ready = any(c.get("type") == "Ready" for c in (node.get("status") or {}).get("conditions") or [])
    if stale or has_ready:
        want = [] if status == "True" else [NOT_READY] if status == "False" else [UNREACHABLE]
        have = sorted(k for k in LIFECYCLE_TAINTS if has_taint(node, k))
        if have != want:
            d.taints = want
    return d


def toleration_left(
    pod: Obj, taints: list[Obj], since: dict[str, float], now: float, default_seconds: float
) -> float | None:
    """Seconds before `pod` must leave a node with these NoExecute `taints` (<= 0: now; None: it
    tolerates them for ever). `since`: when each taint (by key) was first seen."""
    tolerations = [t for t in (pod.get("spec") or {}).get("tolerations") or [] if isinstance(t, dict)]
    left: float | None = None
    for taint in taints:
        used = [t for t in tolerations if toleration_matches(t, taint)]
        if not used:
            return 0.0
        seconds = [t.get("tolerationSeconds") for t in used]
        if any(s is None for s in seconds):
            continue  # tolerated for ever
        shortest = float(min(int(s) for s in seconds if s is not None))
        if shortest == DEFAULT_TOLERATION_SECONDS and taint.get("key") in LIFECYCLE_TAINTS:
            shortest = default_seconds  # the API's default toleration of these two taints
        remaining = since.get(str(taint.get("key", "")), now) + max(shortest, 0.0) - now
        left = remaining if left is None else min(left, remaining)
    return left


def _all_unknown(node: Obj) -> bool:
    conds = (node.get("status") or {}).get("conditions") or []
    return bool(conds) and all(c.get("status") == "Unknown" for c in conds)


def unknown_conditions(node: Obj, now: str) -> list[Obj]:
    """Every condition Unknown (heartbeat times kept: they are the kubelet's, not ours)."""
    conds = [dict(c) for c in (node.get("status") or {}).get("conditions") or []]
    for c in conds:
        if c.get("status") != "Unknown":
            c.update(
                status="Unknown",
                lastTransitionTime=now,
                reason="NodeStatusUnknown",
                message="Kubelet stopped posting node status.",
            )
    if not any(c.get("type") == "Ready" for c in conds):
        conds.append(
            {
                "type": "Ready",
                "status": "Unknown",
                "lastTransitionTime": now,
                "reason": "NodeStatusNeverUpdated",
                "message": "Kubelet never posted node status.",
            }
        )
    return conds


class PodsByNode:
    """One pass's pods by `spec.nodeName`, grouped on first use (a pass that touches no node's pods
    walks none). A pod bound after the grouping waits for the next pass; a pod handed out is the
    cache's version when asked for, so one changed or gone since the grouping is seen as it is."""

    def __init__(self, pods: Informer) -> None:
        self.pods = pods
        self._grouped: dict[str, list[Obj]] | None = None

    def on(self, node: str) -> list[Obj]:
        if self._grouped is None:
            self._grouped = {}
            for pod in self.pods.list():
                self._grouped.setdefault((pod.get("spec") or {}).get("nodeName") or "", []).append(pod)
        current = (self.pods.get(key_of(p)) for p in self._grouped.get(node, ()))
        return [p for p in current if p is not None and (p.get("spec") or {}).get("nodeName") == node]


@dataclass(eq=False)  # a loop, compared by identity
class NodeLifecycleController:
    name: ClassVar[str] = "nodelifecycle"

    client: ApiClient
    nodes: Informer
    leases: Informer
    pods: Informer
    events: EventRecorder
    grace: float = 40.0
    eviction_timeout: float = 300.0
    period: float | None = None  # None: a quarter of `grace`, within 0.05 .. 5 s
    clock: Callable[[], float] = time.monotonic
    health: dict[str, Health] = field(default_factory=dict, init=False)
    tainted_since: dict[tuple[str, str], float] = field(default_factory=dict, init=False)  # (node, key)

    async def run(self) -> None:
        period = self.period if self.period is not None else max(0.05, min(5.0, self.grace / 4))
        await run_every(period, "node lifecycle", self.monitor, (self.nodes, self.leases, self.pods))

    async def monitor(self) -> None:
        now = self.clock()
        names = set()
        pods = PodsByNode(self.pods)
        for node in self.nodes.list():
            name = meta(node)["name"]
            names.add(name)
            h = self.health[name] = observe(
                self.health.get(name), node, self.leases.get(f"{LEASE_NAMESPACE}/{name}"), now
            )
            d = decide(node, h, now, self.grace)
            await self._act(node, d, pods)
            await self._evict(node, now, pods)
        for gone in set(self.health) - names:
            del self.health[gone]
        for key in [k for k in self.tainted_since if k[0] not in names]:
            del self.tainted_since[key]

    async def _act(self, node: Obj, d: Decision, pods: PodsByNode) -> None:
        name = meta(node)["name"]
        now = jsonutil.now_str()
        try:
            if d.mark_unknown:
                await self.client.patch(
                    "nodes",
                    name,
                    {"status": {"conditions": unknown_conditions(node, now)}},
                    subresource="status",
                )
                self.events.record(node, NORMAL, "NodeNotReady", f"Node {name} status is now: NodeNotReady")
            if d.taints is not None:
                taints = [
                    t
                    for t in (node.get("spec") or {}).get("taints") or []
                    if t.get("key") not in LIFECYCLE_TAINTS
                ]
                taints += [{"key": k, "effect": "NoExecute", "timeAdded": now} for k in d.taints]
                await self.client.patch("nodes", name, {"spec": {"taints": taints or None}})
        except ApiError as e:
            if e.code != 404:
                raise
            return
        if d.pods_not_ready:
            for pod in pods.on(name):
                await self._mark_not_ready(pod, now)

    async def _evict(self, node: Obj, now: float, pods: PodsByNode) -> None:
        """Delete the pods that no longer tolerate the node's NoExecute taints."""
        name = meta(node)["name"]
        taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") == "NoExecute"]
        keys = {str(t.get("key", "")) for t in taints}
        for stale in [k for k in self.tainted_since if k[0] == name and k[1] not in keys]:
            del self.tainted_since[stale]
        if not taints:
            return
        since = {key: self.tainted_since.setdefault((name, key), now) for key in keys}
        for pod in pods.on(name):
            m = meta(pod)
            if m.get("deletionTimestamp"):
                continue
            left = toleration_left(pod, taints, since, now, self.eviction_timeout)
            if left is None or left > 0:
                continue
            try:
                await self.client.delete("pods", m["name"], m.get("namespace"))
                self.events.record(
                    pod,
                    NORMAL,
                    "TaintManagerEviction",
                    f"Marking for deletion Pod {m.get('namespace')}/{m['name']}",
                )
            except ApiError as e:
                if e.code != 404:
                    raise

    async def _mark_not_ready(self, pod: Obj, now: str) -> None:
        conds = [dict(c) for c in (pod.get("status") or {}).get("conditions") or []]
        ready = next((c for c in conds if c.get("type") == "Ready"), None)
        if ready is not None and ready.get("status") == "False":
            return
        if ready is None:
            conds.append({"type": "Ready", "status": "False", "lastTransitionTime": now})
        else:
            ready.update(status="False", lastTransitionTime=now)
        self.events.record(pod, WARNING, "NodeNotReady", "Node is not ready")
        await patch_pod_status(self.client, pod, {"conditions": conds})

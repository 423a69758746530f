"""Node lifecycle: notice dead kubelets, fence their nodes, evict their pods.

A node is alive while its kubelet renews its Lease (`kube-node-lease/<node>`) or posts a Ready
condition with a new `lastHeartbeatTime`. Like Kubernetes we time heartbeats on *our* clock
(when we saw the value change), never by comparing the kubelet's timestamps with ours. After
`grace` seconds without one: Ready (and every condition) goes Unknown, the node is tainted
`node.kubernetes.io/unreachable:NoExecute`, its pods' Ready condition goes False (so endpoints
drop them). After `eviction_timeout` not ready: its pods are deleted so their controllers
replace them. `decide` is the pure part.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from api import jsonutil
from api.conditions import ready_status
from api.errors import ApiError
from api.events import NORMAL, WARNING, EventRecorder
from api.informer import Informer
from controller.base import ApiClient, Obj, meta, run_every

LEASE_NAMESPACE = "kube-node-lease"
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
LIFECYCLE_TAINTS = (UNREACHABLE, NOT_READY)


@dataclass
class Health:
    fingerprint: tuple[Any, ...]
    probe_time: float  # local clock: when the heartbeat last changed
    not_ready_since: float | None = None


@dataclass
class Decision:
    mark_unknown: bool = False
    taints: list[str] | None = None  # the lifecycle taints the node should carry, when that changes
    pods_not_ready: bool = False
    evict: bool = False
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
        return Health(fp, now, h.not_ready_since)
    return h


def decide(node: Obj, h: Health, now: float, grace: float, eviction_timeout: float) -> Decision:
    """Pure: what to do about `node` now. Updates `h.not_ready_since`."""
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
    if status == "True":
        h.not_ready_since = None
    elif h.not_ready_since is None:
        h.not_ready_since = now
    if (
        h.not_ready_since is not None
        and now - h.not_ready_since > eviction_timeout
        and (stale or status != "True")
    ):
        d.evict = True
    return d


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

    async def run(self) -> None:
        period = self.period if self.period is not None else max(0.05, min(5.0, self.grace / 4))
        await run_every(period, "node lifecycle", self.monitor, (self.nodes, self.leases, self.pods))

    async def monitor(self) -> None:
        now = self.clock()
        names = set()
        for node in self.nodes.list():
            name = meta(node)["name"]
            names.add(name)
            h = self.health[name] = observe(
                self.health.get(name), node, self.leases.get(f"{LEASE_NAMESPACE}/{name}"), now
            )
            d = decide(node, h, now, self.grace, self.eviction_timeout)
            await self._act(node, d)
        for gone in set(self.health) - names:
            del self.health[gone]

    def pods_on(self, node: str) -> list[Obj]:
        return [p for p in self.pods.list() if (p.get("spec") or {}).get("nodeName") == node]

    async def _act(self, node: Obj, d: Decision) -> None:
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
            for pod in self.pods_on(name):
                await self._mark_not_ready(pod, now)
        if d.evict:
            victims = [p for p in self.pods_on(name) if not meta(p).get("deletionTimestamp")]
            if victims:
                self.events.record(node, NORMAL, "DeletingAllPods", f"Deleting all Pods from Node {name}.")
            for pod in victims:
                m = meta(pod)
                try:
                    await self.client.delete("pods", m["name"], m.get("namespace"))
                    self.events.record(
                        pod,
                        NORMAL,
                        "NodeControllerEviction",
                        f"Marking for deletion Pod {m['name']} from Node {name}",
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
        m = meta(pod)
        try:
            await self.client.patch(
                "pods",
                m["name"],
                {"status": {"conditions": conds}},
                namespace=m.get("namespace"),
                subresource="status",
            )
        except ApiError as e:
            if e.code != 404:
                raise

"""Builders for the preemption tests: nodes and pods as the scheduler's cache holds them."""

from __future__ import annotations

from typing import Any

from controller.scheduler.nodeinfo import NodeInfo, PodInfo, node_info, pod_info
from controller.scheduler.plugins import interpodaffinity, podtopologyspread
from controller.scheduler.victims import Budget, budget_of

HOST = "kubernetes.io/hostname"
NOW = 1_800_000_000.0  # "now" for pods not started yet


def node(
    name: str, cpu: str = "4", pods: str = "110", labels: dict[str, str] | None = None, **spec: Any
) -> NodeInfo:
    return node_info(
        {
            "metadata": {"name": name, "labels": {HOST: name, **(labels or {})}},
            "spec": spec,
            "status": {
                "allocatable": {"cpu": cpu, "memory": "8Gi", "pods": pods},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
    )


def pod(
    name: str,
    priority: int = 0,
    cpu: str = "1",
    started: str | None = None,
    labels: dict[str, str] | None = None,
    namespace: str = "ns",
    **spec: Any,
) -> PodInfo:
    container: dict[str, Any] = {"name": "c", "resources": {"requests": {"cpu": cpu}}}
    if "ports" in spec:
        container["ports"] = spec.pop("ports")
    obj: dict[str, Any] = {
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "labels": labels or {}},
        "spec": {"containers": [container], "priority": priority, **spec},
        "status": {"startTime": started} if started else {},
    }
    return pod_info(f"{namespace}/{name}", obj)


def on(n: NodeInfo, *pods: PodInfo) -> NodeInfo:
    for p in pods:
        p.pod["spec"]["nodeName"] = n.name
        n.add_pod(p)
    return n


def prepared(p: PodInfo, nodes: list[NodeInfo]) -> PodInfo:
    """`p` with its per-decision plugin states, as the shell prepares them."""
    p.affinity = interpodaffinity.prepare(p, nodes, [n for n in nodes if n.placed_terms])
    p.spread = podtopologyspread.prepare(p, nodes)
    return p


def budget(allowed: int, namespace: str = "ns", disrupted: tuple[str, ...] = (), **labels: str) -> Budget:
    return budget_of(
        {
            "metadata": {"name": "pdb", "namespace": namespace},
            "spec": {"selector": {"matchLabels": labels}},
            "status": {
                "disruptionsAllowed": allowed,
                "disruptedPods": {n: "2026-01-01T00:00:00Z" for n in disrupted},
            },
        }
    )


def names(pods: Any) -> list[str]:
    return [p.pod["metadata"]["name"] for p in pods]

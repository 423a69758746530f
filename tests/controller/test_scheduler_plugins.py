"""Pure scheduling: each filter, the scores, the FitError message, quantities."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from api.quantity import to_int, to_milli
from controller.scheduler import framework
from controller.scheduler.nodeinfo import NodeInfo, node_info, pod_info
from controller.scheduler.plugins import (
    leastallocated,
    nodeaffinity,
    nodename,
    nodeports,
    noderesources,
    nodeunschedulable,
    selectorspread,
    tainttoleration,
)


def node(
    name: str,
    cpu: str = "4",
    mem: str = "8Gi",
    pods: str = "110",
    ready: bool = True,
    taints: list[dict[str, Any]] | None = None,
    labels: dict[str, str] | None = None,
    unschedulable: bool = False,
) -> NodeInfo:
    return node_info(
        {
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"taints": taints or [], "unschedulable": unschedulable},
            "status": {
                "allocatable": {"cpu": cpu, "memory": mem, "pods": pods},
                "conditions": [{"type": "Ready", "status": "True" if ready else "Unknown"}],
            },
        }
    )


def pod(name: str = "p", cpu: str | None = None, mem: str | None = None, owner: str = "", **spec: Any) -> Any:
    req = {k: v for k, v in (("cpu", cpu), ("memory", mem)) if v}
    meta: dict[str, Any] = {"name": name, "namespace": "ns", "labels": {"app": "web"}}
    if owner:
        meta["ownerReferences"] = [{"uid": owner, "controller": True}]
    c: dict[str, Any] = {"name": "c", "resources": {"requests": req}}
    if "ports" in spec:
        c["ports"] = spec.pop("ports")
    return pod_info(f"ns/{name}", {"metadata": meta, "spec": {"containers": [c], **spec}})


def test_quantities() -> None:
    assert to_milli("100m") == 100 and to_milli("1.5") == 1500 and to_milli(2) == 2000
    assert to_int("128Mi") == 128 * 2**20 and to_int("1G") == 10**9 and to_int("1e3") == 1000
    with pytest.raises(ValueError):
        to_int("12Qi")


def test_unschedulable_and_not_ready() -> None:
    assert nodeunschedulable.filter(pod(), node("n", ready=False)) == ("node(s) were not ready",)
    assert nodeunschedulable.filter(pod(), node("n", unschedulable=True)) == ("node(s) were unschedulable",)
    tolerant = pod(tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}])
    assert nodeunschedulable.filter(tolerant, node("n", unschedulable=True)) == ()


def test_taints_and_tolerations() -> None:
    t = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}
    n = node("n", taints=[t])
    assert tainttoleration.filter(pod(), n) == (
        "node(s) had untolerated taint {node.kubernetes.io/unreachable: }",
    )
    assert tainttoleration.filter(pod(tolerations=[{"operator": "Exists"}]), n) == ()
    assert tainttoleration.filter(
        pod(tolerations=[{"key": t["key"], "operator": "Exists", "effect": "NoSchedule"}]), n
    )
    soft = node("n", taints=[{"key": "k", "value": "v", "effect": "PreferNoSchedule"}])
    assert tainttoleration.filter(pod(), soft) == ()
    eq = node("n", taints=[{"key": "k", "value": "v", "effect": "NoSchedule"}])
    assert tainttoleration.filter(pod(tolerations=[{"key": "k", "value": "v"}]), eq) == ()
    assert tainttoleration.filter(pod(tolerations=[{"key": "k", "value": "w"}]), eq)


def test_a_pods_overhead_counts_with_its_requests() -> None:
    """kube's PodRequests: the overhead its RuntimeClass gave the pod is requested too."""
    n = node("n", cpu="1", mem="1Gi")
    heavy = pod("h", cpu="600m", overhead={"cpu": "500m", "memory": "64Mi", "example.com/dev": "1"})
    assert (heavy.milli_cpu, heavy.memory, heavy.scalar) == (1100, 64 * 2**20, {"example.com/dev": 1})
    assert noderesources.filter(heavy, n) == ("Insufficient cpu", "Insufficient example.com/dev")
    n.add_pod(pod("a", cpu="100m", overhead={"cpu": "300m"}))
    assert noderesources.filter(pod(cpu="700m"), n) == ("Insufficient cpu",)


def test_resources_count_bound_pods() -> None:
    n = node("n", cpu="1", mem="1Gi", pods="2")
    assert noderesources.filter(pod(cpu="600m"), n) == ()
    n.add_pod(pod("a", cpu="600m", mem="512Mi"))
    assert noderesources.filter(pod(cpu="600m", mem="600Mi"), n) == (
        "Insufficient cpu",
        "Insufficient memory",
    )
    n.add_pod(pod("b"))
    assert noderesources.filter(pod(), n) == ("Too many pods",)
    n.remove_pod("ns/a")
    n.remove_pod("ns/b")
    assert n.req_cpu == 0 and not n.pods


def test_node_selector_name_and_ports() -> None:
    assert nodeaffinity.filter(pod(nodeSelector={"disk": "ssd"}), node("n", labels={"disk": "ssd"})) == ()
    assert nodeaffinity.filter(pod(nodeSelector={"disk": "ssd"}), node("n"))
    assert nodename.filter(pod(nodeName="a"), node("b")) and not nodename.filter(pod(nodeName="a"), node("a"))
    n = node("n")
    n.add_pod(pod("a", ports=[{"containerPort": 80, "hostPort": 8080}]))
    assert nodeports.filter(pod(ports=[{"containerPort": 80, "hostPort": 8080}]), n)
    assert nodeports.filter(pod(ports=[{"containerPort": 80, "hostPort": 8081}]), n) == ()
    assert nodeports.filter(pod(ports=[{"containerPort": 80, "hostPort": 8080, "protocol": "UDP"}]), n) == ()


def test_scores_prefer_free_and_spread() -> None:
    busy, idle = node("busy"), node("idle")
    busy.add_pod(pod("x", cpu="3", owner="rc1"))
    on_busy, on_idle = leastallocated.scores(pod(), [busy, idle])
    assert on_idle > on_busy
    # idle (4 cpu, 8Gi) after a request-less pod: its non-zero 100m and 200Mi taken
    assert on_idle == pytest.approx(50 * ((4000 - 100) / 4000 + (8192 - 200) / 8192))
    p = pod(owner="rc1")
    raw = selectorspread.scores(p, [busy, idle])
    assert raw == [1.0, 0.0] and selectorspread.normalize(raw) == [0.0, 100.0]


def test_schedule_picks_best_and_explains_failures() -> None:
    nodes = [
        node("a", cpu="1"),
        node("b", cpu="1", unschedulable=True),
        node("c", taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
    ]
    err = framework.schedule(pod(cpu="2"), nodes, random.Random(1))
    assert isinstance(err, framework.FitError)
    assert err.message == (
        "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint "
        "{dedicated: db}, 1 node(s) were unschedulable."
    )
    assert framework.FitError(0).message == "no nodes available to schedule pods"
    got = framework.schedule(pod(cpu="500m"), nodes, random.Random(1))
    assert isinstance(got, NodeInfo) and got.name == "a"


def test_spread_over_equal_nodes() -> None:
    nodes = [node(f"n{i}") for i in range(3)]
    rng = random.Random(7)
    for i in range(6):
        p = pod(f"p{i}", owner="rc1")
        chosen = framework.schedule(p, nodes, rng)
        assert isinstance(chosen, NodeInfo)
        chosen.add_pod(p)
    assert sorted(len(n.pods) for n in nodes) == [2, 2, 2]


def test_ties_are_broken_at_random_among_the_best_only() -> None:
    nodes = [node(f"n{i}") for i in range(5)]
    rng = random.Random(3)
    picks = Counter(framework.select_host(nodes, [3.0, 7.0, 7.0, 1.0, 7.0], rng).name for _ in range(3000))
    assert set(picks) == {"n1", "n2", "n4"}
    assert all(850 <= n <= 1150 for n in picks.values()), picks  # each ~1/3
    assert framework.select_host(nodes, [1.0, 2.0, 9.0, 3.0, 4.0], rng).name == "n2"


def test_big_clusters_stop_filtering_at_enough_feasible_nodes() -> None:
    # kube's numFeasibleNodesToFind: all under 100, then 50% - 1% per 125 nodes, at least 5% and 100
    assert [framework.nodes_to_find(n) for n in (3, 99, 100, 500, 5000, 20000)] == [
        3,
        99,
        100,
        230,
        500,
        1000,
    ]


def test_each_search_starts_where_the_last_stopped() -> None:
    nodes = [node(f"n{i}", cpu="1") for i in range(500)] + [node("big")]  # 501: 230 are enough
    rotation = framework.Rotation()
    fits, _ = framework.feasible_nodes(pod(cpu="500m"), nodes, want=230, rotation=rotation)
    assert [n.name for n in fits] == [f"n{i}" for i in range(230)] and rotation.start == 230
    fits, _ = framework.feasible_nodes(pod(cpu="500m"), nodes, want=230, rotation=rotation)
    assert fits[0].name == "n230" and rotation.start == 460
    # fewer fit than wanted: every node is examined and each refusal counted, the message as before
    err = framework.schedule(pod(cpu="8"), nodes, random.Random(1), rotation)
    assert (
        isinstance(err, framework.FitError)
        and err.message == "0/501 nodes are available: 501 Insufficient cpu."
    )
    assert rotation.start == 460
    got = framework.schedule(pod(cpu="2"), nodes, random.Random(1), rotation)
    assert isinstance(got, NodeInfo) and got.name == "big"


def test_extended_resources_hugepages_and_ephemeral_storage_are_counted() -> None:
    gpu_node = node_info(
        {
            "metadata": {"name": "gpu"},
            "status": {"allocatable": {"cpu": "8", "memory": "8Gi", "pods": "110", "nvidia.com/gpu": "2"}},
        }
    )
    plain = node("plain")

    def wants(name: str, **requests: str) -> Any:
        return pod_info(
            f"ns/{name}",
            {
                "metadata": {"name": name, "namespace": "ns"},
                "spec": {"containers": [{"name": "c", "resources": {"requests": requests}}]},
            },
        )

    gpu_pod = wants("train", **{"nvidia.com/gpu": "1"})
    assert noderesources.filter(gpu_pod, plain) == ("Insufficient nvidia.com/gpu",)
    assert noderesources.filter(gpu_pod, gpu_node) == ()
    gpu_node.add_pod(gpu_pod)
    gpu_node.add_pod(wants("train2", **{"nvidia.com/gpu": "1"}))
    assert noderesources.filter(wants("train3", **{"nvidia.com/gpu": "1"}), gpu_node) == (
        "Insufficient nvidia.com/gpu",
    )
    gpu_node.remove_pod("ns/train")
    assert noderesources.filter(wants("train3", **{"nvidia.com/gpu": "1"}), gpu_node) == ()
    assert noderesources.filter(wants("huge", **{"hugepages-2Mi": "64Mi"}), plain) == (
        "Insufficient hugepages-2Mi",
    )
    assert (
        noderesources.filter(wants("disk", **{"ephemeral-storage": "1Gi"}), plain) == ()
    )  # not reported: not limited
    got = framework.schedule(gpu_pod, [plain], random.Random(0))
    assert (
        isinstance(got, framework.FitError)
        and got.message == "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."
    )

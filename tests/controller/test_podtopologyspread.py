"""Topology spread constraints and preferred node affinity, through the framework as the shell
runs it: hard constraints' skew and missing labels, minDomains, soft constraints' score, and
only the nodes the pod may run on counting as domains."""

from __future__ import annotations

import random
from typing import Any

from controller.scheduler import framework
from controller.scheduler.nodeinfo import NodeInfo, PodInfo, node_info, pod_info
from controller.scheduler.plugins import nodeaffinity, podtopologyspread

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"


def node(name: str, zone: str | None = None, **labels: str) -> NodeInfo:
    return node_info(
        {
            "metadata": {"name": name, "labels": {HOST: name, **({ZONE: zone} if zone else {}), **labels}},
            "status": {
                "allocatable": {"cpu": "8", "memory": "8Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
    )


def spread(key: str = ZONE, skew: int = 1, hard: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "maxSkew": skew,
        "topologyKey": key,
        "whenUnsatisfiable": "DoNotSchedule" if hard else "ScheduleAnyway",
        "labelSelector": {"matchLabels": {"app": "web"}},
        **extra,
    }


def pod(name: str, *constraints: dict[str, Any], app: str = "web", **spec: Any) -> PodInfo:
    body: dict[str, Any] = {"containers": [{"name": "c"}], **spec}
    if constraints:
        body["topologySpreadConstraints"] = list(constraints)
    return pod_info(
        f"ns/{name}", {"metadata": {"name": name, "namespace": "ns", "labels": {"app": app}}, "spec": body}
    )


def place(nodes: list[NodeInfo], p: PodInfo) -> str:
    p.spread = podtopologyspread.prepare(p, nodes)
    got = framework.schedule(p, nodes, random.Random(7))
    if isinstance(got, framework.FitError):
        return got.message
    got.add_pod(p)
    return got.name


def zone_counts(nodes: list[NodeInfo]) -> dict[str, int]:
    out: dict[str, int] = {}
    for n in nodes:
        out[n.labels.get(ZONE, "")] = out.get(n.labels.get(ZONE, ""), 0) + len(n.pods)
    return out


def test_a_hard_constraint_keeps_the_zones_within_max_skew() -> None:
    nodes = [node("a1", "z1"), node("a2", "z1"), node("a3", "z1"), node("b1", "z2")]
    for i in range(6):
        place(nodes, pod(f"web-{i}", spread()))
        counts = zone_counts(nodes)
        assert abs(counts["z1"] - counts["z2"]) <= 1, counts  # three nodes in z1 do not pull them there
    assert zone_counts(nodes) == {"z1": 3, "z2": 3}


def test_nodes_without_the_label_are_refused_and_min_domains_counts_missing_zones_as_empty() -> None:
    nodes = [node("a1", "z1"), node("b1", "z2"), node("x")]
    wanting_three = spread(minDomains=3)
    assert place(nodes, pod("web-0", wanting_three)) in ("a1", "b1")
    assert place(nodes, pod("web-1", wanting_three)) in ("a1", "b1")
    assert place(nodes, pod("web-2", wanting_three)) == (
        "0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label), "
        "2 node(s) didn't match pod topology spread constraints."
    )
    assert place(nodes, pod("db-0", wanting_three, app="db")) in ("a1", "b1")  # not selected: no skew added


def test_only_the_nodes_the_pod_may_use_are_domains() -> None:
    nodes = [node("a1", "z1", disk="ssd"), node("b1", "z2", disk="ssd"), node("c1", "z3", disk="hdd")]
    pinned: dict[str, Any] = {"nodeSelector": {"disk": "ssd"}}
    placed = [place(nodes, pod(f"web-{i}", spread(), **pinned)) for i in range(4)]
    assert sorted(placed) == ["a1", "a1", "b1", "b1"]  # the empty z3 is not a domain for them


def test_a_soft_constraint_prefers_the_emptier_domain() -> None:
    nodes = [node("a1", "z1"), node("b1", "z2")]
    for i in range(3):
        nodes[0].add_pod(pod(f"old-{i}"))
    p = pod("web-new", spread(hard=False))
    p.spread = podtopologyspread.prepare(p, nodes)
    assert podtopologyspread.skip(p) and not podtopologyspread.score_skip(p)
    assert podtopologyspread.normalize(podtopologyspread.scores(p, nodes)) == [0.0, 100.0]
    assert place(nodes, pod("web-new2", spread(hard=False))) == "b1"


def test_preferred_node_affinity_scores_by_weight() -> None:
    nodes = [node("a", "z1", disk="hdd"), node("b", "z1", disk="ssd")]
    prefer: dict[str, Any] = {
        "affinity": {
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 80,
                        "preference": {
                            "matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]
                        },
                    }
                ]
            }
        }
    }
    p = pod("p", **prefer)
    assert not nodeaffinity.score_skip(p) and nodeaffinity.score_skip(pod("q"))
    assert nodeaffinity.normalize(nodeaffinity.scores(p, nodes)) == [0.0, 100.0]
    assert all(place(nodes, pod(f"p{i}", **prefer)) == "b" for i in range(3))

"""Inter-pod affinity and anti-affinity: the filter's three rules, the first pod of a group, the
preferred terms' score, and the FitError words users read."""

from __future__ import annotations

import random
from typing import Any

from controller.scheduler import framework
from controller.scheduler.nodeinfo import NodeInfo, PodInfo, node_info, pod_info
from controller.scheduler.plugins import interpodaffinity

HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def node(name: str, zone: str | None = None) -> NodeInfo:
    labels = {HOST: name, **({ZONE: zone} if zone else {})}
    return node_info(
        {
            "metadata": {"name": name, "labels": labels},
            "status": {
                "allocatable": {"cpu": "8", "memory": "8Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
    )


def term(app: str, key: str = HOST, **extra: Any) -> dict[str, Any]:
    return {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key, **extra}


def pod(name: str, app: str, namespace: str = "ns", **affinity: Any) -> PodInfo:
    spec: dict[str, Any] = {"containers": [{"name": "c"}]}
    if affinity:
        spec["affinity"] = affinity
    return pod_info(
        f"{namespace}/{name}",
        {"metadata": {"name": name, "namespace": namespace, "labels": {"app": app}}, "spec": spec},
    )


def place(nodes: list[NodeInfo], p: PodInfo) -> str:
    """Schedule `p` as the shell does (prepare, then the framework) and add it to its node."""
    p.affinity = interpodaffinity.prepare(p, nodes, [n for n in nodes if n.placed_terms])
    got = framework.schedule(p, nodes, random.Random(0))
    if isinstance(got, framework.FitError):
        return got.message
    got.add_pod(p)
    return got.name


def anti(app: str, key: str = HOST) -> dict[str, Any]:
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term(app, key)]}}


def test_required_anti_affinity_puts_one_replica_per_node_then_refuses() -> None:
    nodes = [node("a"), node("b"), node("c")]
    placed = [place(nodes, pod(f"web-{i}", "web", **anti("web"))) for i in range(3)]
    assert sorted(placed) == ["a", "b", "c"]
    assert place(nodes, pod("web-3", "web", **anti("web"))) == (
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."
    )
    assert place(nodes, pod("other", "db")) in ("a", "b", "c")  # not selected: goes anywhere


def test_a_placed_pods_anti_affinity_holds_both_ways() -> None:
    nodes = [node("a"), node("b")]
    assert place(nodes, pod("lonely", "solo", **anti("web"))) in ("a", "b")
    lonely_on = next(n.name for n in nodes if n.pods)
    assert place(nodes, pod("web-0", "web")) == ("b" if lonely_on == "a" else "a")
    assert place(nodes, pod("web-1", "web")) == ("b" if lonely_on == "a" else "a")
    nodes[0 if lonely_on == "b" else 1].unschedulable = True
    assert place(nodes, pod("web-2", "web")) == (
        "0/2 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules, "
        "1 node(s) were unschedulable."
    )


def test_required_affinity_follows_its_group_in_the_zone_and_the_first_may_go_anywhere() -> None:
    nodes = [node("a1", "z1"), node("a2", "z1"), node("b1", "z2")]
    near: dict[str, Any] = {
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term("cache", ZONE)]}
    }
    assert place(nodes, pod("app-0", "app", **near)) == (
        "0/3 nodes are available: 3 node(s) didn't match pod affinity rules."
    )  # no cache pod anywhere, and the pod is not one itself
    first = place(nodes, pod("cache-0", "cache", **near))  # the first of its own group
    zone = "z1" if first.startswith("a") else "z2"
    for i in range(4):
        assert place(nodes, pod(f"app-{i}", "app", **near)).startswith("a" if zone == "z1" else "b")
    nozone = node("x")  # a node without the topology label never satisfies an affinity term
    nozone.add_pod(pod("cache-x", "cache"))
    assert interpodaffinity.filter(pod("app-x", "app", **near), nozone) == []  # no state: not prepared
    p = pod("app-y", "app", **near)
    p.affinity = interpodaffinity.prepare(p, [*nodes, nozone], [])
    assert interpodaffinity.filter(p, nozone) == [interpodaffinity.AFFINITY]


def test_terms_look_in_the_pods_namespace_unless_told_otherwise() -> None:
    nodes = [node("a"), node("b")]
    nodes[0].add_pod(pod("web-0", "web", namespace="other"))
    assert place(nodes, pod("web-1", "web", **anti("web"))) in ("a", "b")  # other namespace: not counted
    everywhere: dict[str, Any] = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term("web", namespaceSelector={})]
        }
    }
    nodes = [node("a"), node("b")]
    nodes[0].add_pod(pod("web-0", "web", namespace="other"))
    assert place(nodes, pod("web-1", "web", **everywhere)) == "b"


def test_preferred_terms_score_towards_and_away() -> None:
    nodes = [node("a"), node("b"), node("c")]
    nodes[0].add_pod(pod("db-0", "db"))
    nodes[1].add_pod(pod("web-0", "web"))
    prefer: dict[str, Any] = {
        "podAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": term("db")}
            ]
        },
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": term("web")}
            ]
        },
    }
    p = pod("web-1", "web", **prefer)
    p.affinity = interpodaffinity.prepare(p, nodes, [])
    raw = interpodaffinity.scores(p, nodes)
    assert raw == [100.0, -100.0, 0.0] and interpodaffinity.normalize(raw) == [100.0, 0.0, 50.0]
    assert place(nodes, pod("web-2", "web", **prefer)) == "a"


def test_the_common_pod_is_not_prepared_at_all() -> None:
    nodes = [node("a")]
    assert interpodaffinity.prepare(pod("p", "web"), nodes, []) is None
    assert pod("p", "web").affinity_terms is None


def test_a_namespace_selector_adds_the_namespaces_it_selects() -> None:
    labels = {"team-a": {"team": "a"}, "team-b": {"team": "b"}}
    nodes = [node("a"), node("b"), node("c")]
    nodes[0].add_pod(pod("web-0", "web", namespace="team-a"))
    nodes[1].add_pod(pod("web-1", "web", namespace="team-b"))
    rule: dict[str, Any] = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                term("web", namespaceSelector={"matchLabels": {"team": "a"}})
            ]
        }
    }
    p = pod("web-2", "web", **rule)
    p.affinity = interpodaffinity.prepare(p, nodes, [], lambda name: labels.get(name, {}))
    assert [interpodaffinity.filter(p, n) for n in nodes] == [[interpodaffinity.ANTI_AFFINITY], [], []]


def test_a_pod_counts_for_required_affinity_only_when_every_term_selects_it() -> None:
    """kube's rule: with two required terms, a node holding one pod per term does not satisfy
    them; a pod both terms select does."""
    nodes = [node("a"), node("b")]
    nodes[0].add_pod(pod("web-0", "web"))
    tier = {"labelSelector": {"matchLabels": {"tier": "front"}}, "topologyKey": HOST}
    front = pod_info(
        "ns/front-0",
        {"metadata": {"name": "front-0", "namespace": "ns", "labels": {"tier": "front"}}, "spec": {}},
    )
    nodes[0].add_pod(front)
    both: dict[str, Any] = {
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term("web"), tier]}
    }
    assert place(nodes, pod("app-0", "app", **both)) == (
        "0/2 nodes are available: 2 node(s) didn't match pod affinity rules."
    )
    web_front = pod_info(
        "ns/web-front",
        {
            "metadata": {"name": "web-front", "namespace": "ns", "labels": {"app": "web", "tier": "front"}},
            "spec": {},
        },
    )
    nodes[1].add_pod(web_front)
    assert place(nodes, pod("app-1", "app", **both)) == "b"


def test_placed_pods_terms_that_select_the_new_pod_score_their_domains() -> None:
    """kube scores the other direction too: a placed pod's preferred affinity towards the new pod
    draws it, its preferred anti-affinity pushes it away, its required affinity draws with
    hardPodAffinityWeight 1. The new pod itself has no terms at all."""
    nodes = [node("a", "z1"), node("b", "z2"), node("c", "z3")]

    def placed(name: str, on: int, kind: str, weight: int, key: str = ZONE) -> None:
        affinity: dict[str, Any]
        if kind == "required":
            affinity = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term("web", key)]}}
        else:
            preferred = [{"weight": weight, "podAffinityTerm": term("web", key)}]
            affinity = {kind: {"preferredDuringSchedulingIgnoredDuringExecution": preferred}}
        nodes[on].add_pod(pod(name, "other", **affinity))

    placed("likes-web", 0, "podAffinity", 30)
    placed("shuns-web", 1, "podAntiAffinity", 50)
    placed("needs-web", 2, "required", 0)
    p = pod("web-0", "web")
    p.affinity = interpodaffinity.prepare(p, nodes, [n for n in nodes if n.placed_terms])
    assert p.affinity is not None and not p.affinity.forbidden
    assert interpodaffinity.scores(p, nodes) == [30.0, -50.0, 1.0]
    assert place(nodes, pod("web-1", "web")) == "a"
    other = pod("db-0", "db")  # selected by no term: nothing to prepare
    assert interpodaffinity.prepare(other, nodes, [n for n in nodes if n.placed_terms]) is None

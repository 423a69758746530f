"""Preemption on one node (victims.py, whatif.py): who may be a victim, the fewest removed, the
reprieve order, PodDisruptionBudgets, and the other filters after the removal."""

from __future__ import annotations

from typing import Any

from controller.scheduler.plugins import interpodaffinity, nodeports, noderesources, podtopologyspread
from controller.scheduler.victims import (
    NO_VICTIMS,
    Victims,
    budget_of,
    select_victims,
    split_by_budgets,
)
from controller.scheduler.whatif import WhatIf, failure_with_nominated, first_failure, unresolvable
from tests.controller.preempting import HOST, NOW, budget, names, node, on, pod, prepared


def victims_of(result: Victims | tuple[str, ...]) -> list[str]:
    assert isinstance(result, Victims), result
    return names(result.pods)


def test_only_strictly_lower_priority_pods_are_victims() -> None:
    n = on(node("n", cpu="3"), pod("same", 100), pod("higher", 200), pod("low", 50))
    assert victims_of(select_victims(pod("p", 100, cpu="1"), n, [], [], NOW)) == ["low"]
    # none of lower priority: the node is no candidate, in kube's words
    full = on(node("m", cpu="2"), pod("a", 100), pod("b", 100))
    assert select_victims(pod("p", 100), full, [], [], NOW) == (NO_VICTIMS,)


def test_no_fit_even_without_every_lower_pod_says_why() -> None:
    n = on(node("n", cpu="3"), pod("keep", 500, cpu="3"), pod("low", 1, cpu="0"))
    assert select_victims(pod("p", 100, cpu="1"), n, [], [], NOW) == ("Insufficient cpu",)


def test_the_fewest_are_removed_the_most_important_reprieved_first() -> None:
    n = on(
        node("n", cpu="4"),
        pod("p10", 10),
        pod("p30", 30),
        pod("p20", 20),
        pod("p40", 40),
    )
    got = select_victims(pod("p", 100, cpu="2"), n, [], [], NOW)
    assert victims_of(got) == ["p20", "p10"]  # most important first
    assert isinstance(got, Victims) and got.violations == 0 and got.node == "n"


def test_among_equal_priority_the_longer_running_is_reprieved() -> None:
    n = on(
        node("n", cpu="2"),
        pod("young", 10, started="2026-03-01T10:00:00Z"),
        pod("old", 10, started="2026-01-01T10:00:00Z"),
    )
    assert victims_of(select_victims(pod("p", 100), n, [], [], NOW)) == ["young"]
    # a pod that has not started yet counts as starting now: the youngest
    n2 = on(node("m", cpu="2"), pod("old", 10, started="2026-01-01T10:00:00Z"), pod("pending", 10))
    assert victims_of(select_victims(pod("p", 100), n2, [], [], NOW)) == ["pending"]


def test_a_budget_is_broken_only_when_nothing_else_makes_room() -> None:
    guarded = {"app": "db"}
    n = on(node("n", cpu="2"), pod("db", 10, labels=guarded), pod("web", 20))
    pdb = budget(0, app="db")
    got = select_victims(pod("p", 100), n, [pdb], [], NOW)
    # the budget's pod is reprieved first although it is the less important one
    assert victims_of(got) == ["web"] and isinstance(got, Victims) and got.violations == 0
    # room for two: both go, and one breaks the budget
    both = select_victims(pod("p", 100, cpu="2"), n, [pdb], [], NOW)
    assert victims_of(both) == ["web", "db"] and isinstance(both, Victims) and both.violations == 1


def test_split_by_budgets_spends_the_allowed_disruptions_in_order() -> None:
    a, b, c = (pod(x, 10, labels={"app": "db"}) for x in "abc")
    other_ns = pod("d", 10, labels={"app": "db"}, namespace="other")
    unlabelled = pod("e", 10)
    violating, others = split_by_budgets([a, b, c, other_ns, unlabelled], [budget(1, app="db")])
    assert names(violating) == ["b", "c"] and names(others) == ["a", "d", "e"]
    # a pod the eviction API already counted (disruptedPods) costs the budget nothing
    violating, _ = split_by_budgets([a, b], [budget(1, disrupted=("a",), app="db")])
    assert names(violating) == []


def test_budget_selectors_as_kube_preemption_reads_them() -> None:
    everything = budget_of({"metadata": {"namespace": "ns"}, "spec": {"selector": {}}, "status": {}})
    missing = budget_of({"metadata": {"namespace": "ns"}, "spec": {}, "status": {"disruptionsAllowed": 3}})
    bad = {"matchExpressions": [{"key": "app", "operator": "Near"}]}
    invalid = budget_of({"metadata": {"namespace": "ns"}, "spec": {"selector": bad}})
    p = pod("x", labels={"app": "db"})
    assert not everything.covers(p) and not missing.covers(p) and not invalid.covers(p)
    assert missing.allowed == 3 and everything.allowed == 0


def test_a_host_port_is_freed_by_removing_its_holder() -> None:
    port = [{"containerPort": 80, "hostPort": 8080}]
    n = on(node("n", cpu="8"), pod("holder", 1, cpu="0", ports=port), pod("bystander", 1, cpu="0"))
    p = pod("p", 100, cpu="1", ports=port)
    failed = first_failure(p, n)
    assert failed is not None and failed[0] is nodeports and not unresolvable(failed, p, n)
    assert victims_of(select_victims(p, n, [], [], NOW)) == ["holder"]


def test_a_request_beyond_the_node_is_unresolvable_a_full_node_is_not() -> None:
    n = on(node("n", cpu="2", pods="2"), pod("a", 1), pod("b", 1))
    for p, hopeless in ((pod("big", 100, cpu="3"), True), (pod("fits-alone", 100, cpu="2"), False)):
        failed = first_failure(p, n)
        assert failed is not None and failed[0] is noderesources
        assert unresolvable(failed, p, n) is hopeless
    too_many = first_failure(pod("tiny", 100, cpu="0"), n)
    assert too_many is not None and too_many[1] == ("Too many pods",)
    assert not unresolvable(too_many, pod("tiny", 100, cpu="0"), n)


def test_anti_affinity_to_a_lower_priority_pod_is_mended_by_removing_it() -> None:
    rule = {"labelSelector": {"matchLabels": {"app": "batch"}}, "topologyKey": HOST}
    spec: dict[str, Any] = {
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [rule]}}
    }
    n = on(node("n", cpu="8"), pod("batch", 1, labels={"app": "batch"}), pod("web", 1))
    p = prepared(pod("p", 100, **spec), [n])
    failed = first_failure(p, n)
    assert failed is not None and failed[0] is interpodaffinity and not unresolvable(failed, p, n)
    assert victims_of(select_victims(p, n, [], [], NOW)) == ["batch"]


def test_a_placed_pods_anti_affinity_is_mended_by_removing_it() -> None:
    rule = {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": HOST}
    spec: dict[str, Any] = {
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [rule]}}
    }
    n = on(node("n", cpu="8"), pod("loner", 1, **spec))
    p = prepared(pod("p", 100, labels={"app": "web"}), [n])
    assert first_failure(p, n) is not None
    assert victims_of(select_victims(p, n, [], [], NOW)) == ["loner"]


def test_missing_affinity_is_unresolvable() -> None:
    rule = {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": HOST}
    spec: dict[str, Any] = {
        "affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [rule]}}
    }
    n = on(node("n", cpu="8"), pod("low", 1))
    other = on(node("m"), pod("cache", 1, labels={"app": "cache"}))
    p = prepared(pod("p", 100, **spec), [n, other])
    failed = first_failure(p, n)
    assert failed is not None and unresolvable(failed, p, n)


def test_topology_spread_counts_follow_the_removal() -> None:
    spread = {
        "maxSkew": 1,
        "topologyKey": HOST,
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"app": "web"}},
    }
    web = {"app": "web"}
    a = on(node("a", cpu="8"), pod("w1", 1, labels=web), pod("w2", 1, labels=web))
    b = on(node("b", cpu="8"), pod("w3", 1, labels=web))
    p = prepared(pod("p", 100, labels=web, topologySpreadConstraints=[spread]), [a, b])
    failed = first_failure(p, a)
    assert failed is not None and failed[0] is podtopologyspread and not unresolvable(failed, p, a)
    assert victims_of(select_victims(p, a, [], [], NOW)) in (["w1"], ["w2"])


def test_taints_and_missing_labels_are_unresolvable() -> None:
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    n = on(node("n", taints=[taint]), pod("low", 1))
    p = pod("p", 100)
    failed = first_failure(p, n)
    assert failed is not None and unresolvable(failed, p, n)
    picky = pod("picky", 100, nodeSelector={"disk": "ssd"})
    failed = first_failure(picky, n)
    assert failed is not None and unresolvable(failed, picky, n)


def test_what_if_leaves_the_cache_alone() -> None:
    n = on(node("n", cpu="2"), pod("a", 1), pod("b", 1))
    view = WhatIf(pod("p", 100), n)
    view.remove(n.pods["ns/a"])
    view.add(pod("c", 1))
    assert sorted(n.pods) == ["ns/a", "ns/b"] and n.req_cpu == 2000
    assert sorted(view.node.pods) == ["ns/b", "ns/c"]


def test_nominated_pods_of_equal_or_higher_priority_hold_their_room() -> None:
    n = on(node("n", cpu="2"), pod("a", 1))
    waiting = [pod("nominee", 50)]
    assert failure_with_nominated(pod("lower", 10), n, waiting) is not None
    assert failure_with_nominated(pod("equal", 50), n, waiting) is not None
    assert failure_with_nominated(pod("higher", 60), n, waiting) is None
    assert failure_with_nominated(pod("nominee", 50), n, waiting) is None  # itself: no
    # preemption counts them too: removing "a" leaves no room beside the nominee for an equal pod
    assert select_victims(pod("equal", 50, cpu="2"), n, [], waiting, NOW) == ("Insufficient cpu",)

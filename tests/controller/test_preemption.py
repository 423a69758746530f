"""Preemption across nodes (preemption.py): eligibility, the nodes skipped, the candidate
ranking, kube's messages; nominations (nominator.py, framework) and the status a pod is given
(failure.py)."""

from __future__ import annotations

import random
from typing import Any

from controller.scheduler import framework
from controller.scheduler.failure import status_change
from controller.scheduler.nodeinfo import PodInfo
from controller.scheduler.nominator import Nominator
from controller.scheduler.preemption import (
    NEVER,
    TERMINATING,
    Outcome,
    candidates_wanted,
    ineligible,
    pick_one,
    preempt,
)
from controller.scheduler.preemptor import disruption_target, needs_condition
from controller.scheduler.victims import Victims
from tests.controller.preempting import NOW, budget, names, node, on, pod


def run(p: PodInfo, nodes: list[Any], **kw: Any) -> Outcome:
    kw.setdefault("budgets", [])
    kw.setdefault("nominated", {})
    return preempt(p, nodes, rng=random.Random(0), now=NOW, **kw)


def test_a_full_node_of_lower_priority_pods_gives_way() -> None:
    n = on(node("n", cpu="2"), pod("a", 1), pod("b", 2))
    got = run(pod("p", 100), [n])
    assert got.message == "" and got.nominate == "n" and names(got.victims) == ["a"]


def test_preemption_policy_never_stays_pending_with_its_nomination_untouched() -> None:
    n = on(node("n", cpu="2"), pod("a", 1), pod("b", 2))
    got = run(pod("p", 100, preemptionPolicy="Never"), [n])
    assert got == Outcome("preemption: " + NEVER, None)
    assert got.message == "preemption: not eligible due to preemptionPolicy=Never."


def test_equal_priority_is_never_preempted_and_kube_says_so() -> None:
    nodes = [on(node(f"n{i}", cpu="1"), pod(f"a{i}", 100)) for i in range(2)]
    got = run(pod("p", 100), nodes)
    assert got.victims == [] and got.nominate == ""  # a nomination it had is cleared
    assert got.message == (
        "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
    )


def test_nodes_removal_cannot_help_are_skipped_and_counted() -> None:
    taint = {"key": "dedicated", "value": "x", "effect": "NoSchedule"}
    nodes = [
        on(node("tainted", cpu="1", taints=[taint]), pod("t", 1)),
        on(node("small", cpu="1"), pod("s", 1)),
        on(node("held", cpu="3"), pod("x", 100, cpu="2"), pod("low", 1, cpu="500m")),
        on(node("equal", cpu="2"), pod("y", 100, cpu="2")),
    ]
    got = run(pod("p", 100, cpu="2"), nodes)
    assert got.message == (
        "preemption: 0/4 nodes are available: 1 Insufficient cpu, 1 No preemption victims found for "
        "incoming pod, 2 Preemption is not helpful for scheduling."
    )
    # the same nodes with one that helps: only that one is a candidate
    helps = on(node("helps", cpu="2"), pod("h1", 1), pod("h2", 1))
    got = run(pod("p", 100, cpu="2"), [*nodes, helps])
    assert got.nominate == "helps" and names(got.victims) == ["h1", "h2"]


def test_a_volume_prefilter_failure_helps_nowhere() -> None:
    n = on(node("n"), pod("a", 1))
    got = run(pod("p", 100), [n], prefilter_failed=True)
    assert got.message == "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    assert got.nominate == ""


def test_a_budget_protects_where_another_choice_exists() -> None:
    db = {"app": "db"}
    guarded = on(node("guarded", cpu="1"), pod("db", 1, labels=db))
    free = on(node("free", cpu="1"), pod("web", 5))
    got = run(pod("p", 100), [guarded, free], budgets=[budget(0, app="db")])
    # a higher victim priority is taken over breaking the budget
    assert got.nominate == "free" and names(got.victims) == ["web"]
    # without another choice the budget is broken
    got = run(pod("p", 100), [guarded], budgets=[budget(0, app="db")])
    assert got.nominate == "guarded" and names(got.victims) == ["db"]


def victims(node: str, *priorities: int, violations: int = 0, started: str | None = None) -> Victims:
    return Victims(
        node, [pod(f"{node}-{i}", pr, started=started) for i, pr in enumerate(priorities)], violations
    )


def test_candidates_ranked_by_kubes_criteria_in_order() -> None:
    # 1. fewest budget violations, over everything else
    assert pick_one([victims("a", 1, violations=1), victims("b", 50, 40, 30)], NOW).node == "b"
    # 2. the lowest highest-priority victim
    assert pick_one([victims("a", 10, 1), victims("b", 5, 5, 5)], NOW).node == "b"
    # 3. the smallest sum of priorities (negative ones too: kube offsets them all)
    assert pick_one([victims("a", 5, 4), victims("b", 5, 1)], NOW).node == "b"
    assert pick_one([victims("a", -5, -5, -5), victims("b", -5, -5)], NOW).node == "b"
    # 4. the fewest victims
    assert pick_one([victims("a", 5, 0, 0), victims("b", 5, 0)], NOW).node == "b"
    # 5. the latest start of the most important victims
    early = victims("a", 5, started="2026-01-01T00:00:00Z")
    late = victims("b", 5, started="2026-02-01T00:00:00Z")
    assert pick_one([early, late], NOW).node == "b"
    # then the first found
    assert pick_one([victims("a", 5), victims("b", 5)], NOW).node == "a"


def test_earliest_start_is_taken_among_the_top_priority_victims_only() -> None:
    a = Victims(
        "a", [pod("a1", 5, started="2026-02-01T00:00:00Z"), pod("a2", 1, started="2020-01-01T00:00:00Z")]
    )
    b = Victims(
        "b", [pod("b1", 5, started="2026-01-01T00:00:00Z"), pod("b2", 1, started="2026-06-01T00:00:00Z")]
    )
    assert pick_one([a, b], NOW).node == "a"


def test_candidates_wanted_is_kubes_ten_percent_at_least_a_hundred() -> None:
    assert [candidates_wanted(n) for n in (3, 100, 500, 1000, 5000)] == [3, 100, 100, 100, 500]


def test_the_dry_run_stops_once_enough_clean_candidates_are_found() -> None:
    nodes = [on(node(f"n{i:03}", cpu="1"), pod(f"a{i}", 1)) for i in range(150)]
    got = run(pod("p", 100), nodes)
    assert got.nominate is not None and got.nominate.startswith("n") and len(got.victims) == 1


def terminating(p: PodInfo) -> PodInfo:
    p.pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    p.pod["status"]["conditions"] = [disruption_target("default-scheduler", "2026-01-01T00:00:00Z")]
    return p


def test_a_pod_waits_while_its_victims_terminate_on_its_nominated_node() -> None:
    n = on(node("n", cpu="2"), terminating(pod("victim", 1)), pod("other", 1))
    p = pod("p", 100, cpu="2")
    assert ineligible(p, n, node_unresolvable=False) == TERMINATING
    got = run(p, [n], nominated_node="n")
    assert got == Outcome("preemption: " + TERMINATING, None)
    # nominated elsewhere, or the node now hopeless: it may preempt again
    assert ineligible(p, None, False) == "" and ineligible(p, n, node_unresolvable=True) == ""
    # a pod deleted for another reason does not hold it back
    plain = pod("gone", 1)
    plain.pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert ineligible(p, on(node("m"), plain), False) == ""


def test_lower_priority_nominations_to_the_chosen_node_are_cleared() -> None:
    n = on(node("n", cpu="2"), pod("a", 1), pod("b", 1))
    low, high = pod("low-nominee", 10, cpu="0"), pod("high-nominee", 200, cpu="0")
    got = run(pod("p", 100), [n], nominated={"n": {low.key: low, high.key: high}})
    assert got.nominate == "n" and names(got.denominate) == ["low-nominee"]


def test_the_scheduler_counts_nominated_pods_and_tries_the_nominated_node_first() -> None:
    a, b = node("a", cpu="2"), node("b", cpu="2")
    nominee = pod("nominee", 100, cpu="2")
    nominated = {"a": {nominee.key: nominee}}
    rng = random.Random(0)
    for _ in range(5):  # a lower pod never lands on the held node
        got = framework.schedule(pod("low", 1, cpu="1"), [a, b], rng, nominated=nominated)
        assert isinstance(got, type(a)) and got.name == "b"
    assert framework.schedule(nominee, [a, b], rng, nominated=nominated, nominated_node=a) is a
    held = framework.schedule(pod("low", 1, cpu="2"), [a], rng, nominated=nominated)
    assert (
        isinstance(held, framework.FitError)
        and held.message == "0/1 nodes are available: 1 Insufficient cpu."
    )


def test_the_fit_error_carries_preemptions_verdict() -> None:
    fit = framework.FitError(1, prefilter="pod has unbound immediate PersistentVolumeClaims")
    fit.postfilter = "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    assert fit.message == (
        "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    )


def obj(nominated: str = "", node_name: str = "", deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "p", "namespace": "ns"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": meta,
        "spec": {"nodeName": node_name} if node_name else {},
        "status": {"nominatedNodeName": nominated} if nominated else {},
    }


def test_nominator_follows_the_status_and_keeps_its_own_until_told_otherwise() -> None:
    nom = Nominator()
    info = pod("p", 100)
    nom.observe(info.key, None, obj("n1"), lambda: info)
    assert nom.node_of == {info.key: "n1"} and list(nom.by_node["n1"]) == [info.key]
    nom.observe(info.key, obj("n1"), obj("n2"), lambda: info)
    assert nom.node_of == {info.key: "n2"} and "n1" not in nom.by_node
    nom.nominate(info, "n3")  # made here; an update naming no node on either side keeps it
    nom.observe(info.key, obj(), obj(), lambda: info)
    assert nom.node_of == {info.key: "n3"}
    nom.observe(info.key, obj("n3"), obj(), lambda: info)  # cleared in the status: gone
    assert nom.node_of == {} and nom.by_node == {}
    for ended in (obj("n1", node_name="n1"), obj("n1", deleting=True)):
        nom.nominate(info, "n1")
        nom.observe(info.key, obj("n1"), ended, lambda: info)
        assert nom.node_of == {}


def test_the_status_written_for_a_failure() -> None:
    pod_obj = {"status": {"conditions": [{"type": "PodScheduled", "status": "False", "message": "m"}]}}
    assert status_change(pod_obj, "m", None, "t") == {}  # nothing new: no write
    assert status_change(pod_obj, "m", "n1", "t") == {"nominatedNodeName": "n1"}
    nominated = {"status": {**pod_obj["status"], "nominatedNodeName": "n1"}}
    assert status_change(nominated, "m", "n1", "t") == {}
    assert status_change(nominated, "m", "", "t") == {"nominatedNodeName": None}  # cleared
    change = status_change({}, "other", None, "t")
    assert (
        change["conditions"][0]["reason"] == "Unschedulable" and change["conditions"][0]["message"] == "other"
    )


def test_the_disruption_target_condition_in_kubes_words() -> None:
    cond = disruption_target("default-scheduler", "t")
    assert cond["type"] == "DisruptionTarget" and cond["status"] == "True"
    assert cond["reason"] == "PreemptionByScheduler"
    assert cond["message"] == "default-scheduler: preempting to accommodate a higher priority pod"
    assert needs_condition({"status": {}}) and not needs_condition({"status": {"conditions": [cond]}})
    evicted = {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI"}
    assert needs_condition({"status": {"conditions": [evicted]}})


def test_a_prefilter_failure_makes_the_nominated_node_unresolvable_too() -> None:
    n = on(node("n", cpu="2"), terminating(pod("victim", 1)), pod("other", 1))
    got = run(pod("p", 100, cpu="2"), [n], nominated_node="n", prefilter_failed=True)
    assert got.message.endswith("1 Preemption is not helpful for scheduling.") and got.nominate == ""


def test_a_nomination_to_a_node_no_longer_suitable_is_cleared() -> None:
    taint = {"key": "maintenance", "effect": "NoSchedule"}
    n = on(node("n", cpu="2", taints=[taint]), terminating(pod("victim", 1)), pod("other", 1))
    got = run(pod("p", 100), [n], nominated_node="n")
    assert got.nominate == "" and got.victims == []
    assert got.message == "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    # another node can be made room on: the pod is nominated there instead
    other = on(node("m", cpu="1"), pod("low", 1))
    assert run(pod("p", 100), [n, other], nominated_node="n").nominate == "m"

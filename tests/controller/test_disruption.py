"""The disruption controller's pure part: a budget's status from the pods its selector finds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from api import jsonutil
from controller.disruption import budget_status

NOW = dt.datetime(2026, 12, 4, 20, 0, 0, tzinfo=dt.UTC)


def pod(name: str, ready: bool = True) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "apps", "labels": {"app": "web"}},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def pdb(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "apps", "generation": 3},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec},
        "status": {},
    }


def counts(st: dict[str, Any]) -> tuple[int, int, int, int]:
    return st["expectedPods"], st["currentHealthy"], st["desiredHealthy"], st["disruptionsAllowed"]


def test_min_available_and_max_unavailable_as_numbers_and_percentages() -> None:
    pods = [pod("a"), pod("b"), pod("c", ready=False)]
    assert counts(budget_status(pdb(minAvailable=2), pods, NOW)) == (3, 2, 2, 0)
    assert counts(budget_status(pdb(minAvailable=1), pods, NOW)) == (3, 2, 1, 1)
    assert counts(budget_status(pdb(minAvailable="50%"), pods, NOW)) == (3, 2, 2, 0)  # 1.5 rounds up
    assert counts(budget_status(pdb(maxUnavailable=1), pods, NOW)) == (3, 2, 2, 0)
    assert counts(budget_status(pdb(maxUnavailable="34%"), pods, NOW)) == (3, 2, 1, 1)  # 1.02 rounds up to 2
    st = budget_status(pdb(minAvailable=1), pods, NOW)
    assert st["observedGeneration"] == 3
    assert st["conditions"][0] | {"lastTransitionTime": None} == {
        "type": "DisruptionAllowed",
        "status": "True",
        "reason": "SufficientPods",
        "message": "",
        "observedGeneration": 3,
        "lastTransitionTime": None,
    }


def test_no_pods_allow_no_disruption() -> None:
    st = budget_status(pdb(maxUnavailable=1), [], NOW)
    assert counts(st) == (0, 0, 0, 0) and st["conditions"][0]["reason"] == "InsufficientPods"


def test_a_pod_being_evicted_is_not_healthy_until_it_goes_or_two_minutes_pass() -> None:
    pods = [pod("a"), pod("b"), pod("c")]
    recent = jsonutil.format_time(NOW - dt.timedelta(seconds=10))
    stale = jsonutil.format_time(NOW - dt.timedelta(seconds=300))
    budget = pdb(minAvailable=2)
    budget["status"] = {"disruptedPods": {"a": recent, "b": stale, "gone": recent}}
    st = budget_status(budget, pods, NOW)
    assert st["disruptedPods"] == {"a": recent}  # b timed out, gone is gone
    assert counts(st) == (3, 2, 2, 0)


def test_the_condition_keeps_its_time_while_it_holds() -> None:
    budget = pdb(minAvailable=1)
    first = budget_status(budget, [pod("a"), pod("b")], NOW)
    budget["status"] = first
    later = budget_status(budget, [pod("a"), pod("b")], NOW + dt.timedelta(minutes=5))
    assert later["conditions"][0]["lastTransitionTime"] == first["conditions"][0]["lastTransitionTime"]

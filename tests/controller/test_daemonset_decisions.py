"""The DaemonSet controller's pure decisions and the scheduler's required node affinity."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from controller import daemonset_decisions as dd
from controller.scheduler.nodeinfo import node_info, pod_info
from controller.scheduler.plugins import nodeaffinity

Obj = dict[str, Any]
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_n = itertools.count()


def node(name: str, labels: dict[str, str] | None = None, taints: list[Obj] | None = None) -> Obj:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []}}


def ds(**spec: Any) -> Obj:
    pod_spec = {"containers": [{"name": "c"}], **spec.pop("pod", {})}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "d", "namespace": "ns", "uid": "D", "generation": 2},
        "spec": {"template": {"metadata": {"labels": {"app": "d"}}, "spec": pod_spec}, **spec},
    }


def pod(
    node_name: str, hash_: str = "new", ready: bool = True, phase: str = "Running", bound: bool = True
) -> Obj:
    i = next(_n)
    spec = dd.pin_to_node({}, node_name)
    if bound:
        spec["nodeName"] = node_name
    st: Obj = {"phase": phase}
    if ready:
        st["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z"}]
    return {
        "metadata": {
            "name": f"d-{i}",
            "uid": f"u{i}",
            "creationTimestamp": f"2025-01-01T00:00:{i % 60:02d}Z",
            "labels": {"controller-revision-hash": hash_},
        },
        "spec": spec,
        "status": st,
    }


def names(pods: list[Obj]) -> list[str]:
    return sorted(p["metadata"]["name"] for p in pods)


def test_creates_one_pod_per_eligible_node() -> None:
    plan = dd.decide(
        ds(pod={"nodeSelector": {"disk": "ssd"}}),
        [node("a", {"disk": "ssd"}), node("b"), node("c", {"disk": "ssd"})],
        [],
        "new",
        NOW,
    )
    assert plan.create == ["a", "c"] and plan.status["desiredNumberScheduled"] == 2


def test_pod_shape_pinned_tolerating_labelled() -> None:
    p = dd.pod_for(
        ds(pod={"hostNetwork": True, "tolerations": [{"key": "x", "operator": "Exists"}]}), "n1", "h1"
    )
    assert p["metadata"]["generateName"] == "d-"
    assert p["metadata"]["labels"] == {
        "app": "d",
        "controller-revision-hash": "h1",
        "pod-template-generation": "2",
    }
    assert p["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
    terms = p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert terms == [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]
    keys = [(t.get("key"), t.get("effect")) for t in p["spec"]["tolerations"]]
    assert keys[0] == ("x", None) and ("node.kubernetes.io/network-unavailable", "NoSchedule") in keys
    assert len(keys) == 1 + 6 + 1


def test_pinning_keeps_the_templates_expressions() -> None:
    term = {
        "matchExpressions": [{"key": "zone", "operator": "In", "values": ["z1"]}],
        "matchFields": [{"key": "metadata.name", "operator": "In", "values": ["other"]}],
    }
    spec = {
        "affinity": {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}
        }
    }
    pinned = dd.pin_to_node(spec, "n1")
    got = pinned["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert got == [
        {
            "matchExpressions": term["matchExpressions"],
            "matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}],
        }
    ]
    assert (
        spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
            "nodeSelectorTerms"
        ][0]
        is term
    )  # the template is not changed


def test_taints() -> None:
    no_sched = node("a", taints=[{"key": "gpu", "effect": "NoSchedule"}])
    no_exec = node("b", taints=[{"key": "gpu", "effect": "NoExecute"}])
    cordoned = node("c", taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}])
    pressure = node("d", taints=[{"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule"}])
    prefer = node("e", taints=[{"key": "gpu", "effect": "PreferNoSchedule"}])
    assert dd.should_run(ds(), no_sched) == (False, True)
    assert dd.should_run(ds(), no_exec) == (False, False)
    assert dd.should_run(ds(), cordoned) == (True, True)
    assert dd.should_run(ds(), pressure) == (True, True)
    assert dd.should_run(ds(), prefer) == (True, True)
    tolerant = ds(pod={"tolerations": [{"key": "gpu", "operator": "Exists"}]})
    assert dd.should_run(tolerant, no_exec) == (True, True)
    plan = dd.decide(ds(), [no_sched, no_exec], [pod("a"), pod("b")], "new", NOW)
    assert [p["spec"]["nodeName"] for p in plan.delete] == ["b"]  # NoExecute evicts; NoSchedule lets it stay
    assert plan.status["numberMisscheduled"] == 2 and plan.status["desiredNumberScheduled"] == 0


def test_failed_surplus_and_vanished_nodes() -> None:
    failed = pod("a", phase="Failed")
    extra = [pod("b"), pod("b")]
    gone, bound_gone = pod("zz", bound=False), pod("zz")  # the bound one is left to the pod GC
    plan = dd.decide(
        ds(updateStrategy={"type": "OnDelete"}),
        [node("a"), node("b")],
        [failed, *extra, gone, bound_gone],
        "new",
        NOW,
    )
    assert names(plan.delete) == names([failed, extra[1], gone]) and plan.failed == [failed]
    assert plan.create == []  # the failed pod's node gets a new one once it is gone


def test_unbound_pods_count_for_their_pinned_node() -> None:
    plan = dd.decide(ds(), [node("a")], [pod("a", bound=False, ready=False, phase="Pending")], "new", NOW)
    assert (
        plan.create == []
        and plan.status["currentNumberScheduled"] == 1
        and plan.status["numberUnavailable"] == 1
    )


def test_rolling_update_max_unavailable() -> None:
    nodes = [node(n) for n in "abcd"]
    old = [pod(n, "old") for n in "abcd"]
    plan = dd.decide(ds(updateStrategy={"rollingUpdate": {"maxUnavailable": 2}}), nodes, old, "new", NOW)
    assert len(plan.delete) == 2 and plan.create == []
    # an unavailable old pod goes regardless of the budget
    broken = [pod("a", "old", ready=False), *(pod(n, "old") for n in "bcd")]
    plan = dd.decide(ds(), nodes, broken, "new", NOW)
    assert [p["spec"]["nodeName"] for p in plan.delete] == ["a"]
    # a node still waiting for its new pod uses the budget up
    plan = dd.decide(ds(), nodes, [pod(n, "old") for n in "bcd"], "new", NOW)
    assert plan.create == ["a"] and plan.delete == []
    plan = dd.decide(ds(updateStrategy={"rollingUpdate": {"maxUnavailable": "50%"}}), nodes, old, "new", NOW)
    assert len(plan.delete) == 2


def test_rolling_update_max_surge() -> None:
    nodes = [node(n) for n in "ab"]
    strategy = {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    plan = dd.decide(ds(updateStrategy=strategy), nodes, [pod("a", "old"), pod("b", "old")], "new", NOW)
    assert plan.create == ["a"] and plan.delete == []  # new beside old, one node at a time
    waiting = [pod("a", "old"), pod("a", "new", ready=False), pod("b", "old")]
    assert dd.decide(ds(updateStrategy=strategy), nodes, waiting, "new", NOW).delete == []
    ready = [pod("a", "old"), pod("a", "new"), pod("b", "old")]
    plan = dd.decide(ds(updateStrategy=strategy), nodes, ready, "new", NOW)
    assert plan.delete == [ready[0]] and plan.create == []


def test_on_delete_replaces_nothing() -> None:
    plan = dd.decide(ds(updateStrategy={"type": "OnDelete"}), [node("a")], [pod("a", "old")], "new", NOW)
    assert plan.delete == [] and plan.status["updatedNumberScheduled"] == 0


def test_status() -> None:
    pods = [pod("a"), pod("b", ready=False), pod("c", "old")]
    st = dd.decide(
        ds(updateStrategy={"type": "OnDelete"}), [node(n) for n in "abcd"], pods, "new", NOW
    ).status
    assert st == {
        "desiredNumberScheduled": 4,
        "currentNumberScheduled": 3,
        "numberMisscheduled": 0,
        "numberReady": 2,
        "numberAvailable": 2,
        "numberUnavailable": 2,
        "updatedNumberScheduled": 2,
        "observedGeneration": 2,
    }


def affinity_pod(*terms: Obj, selector: dict[str, str] | None = None) -> Obj:
    spec: Obj = {
        "containers": [{"name": "c"}],
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}
            }
        },
    }
    if selector:
        spec["nodeSelector"] = selector
    return {"metadata": {"name": "p"}, "spec": spec}


def fits(p: Obj, name: str, labels: dict[str, str]) -> bool:
    n = node_info({"metadata": {"name": name, "labels": labels}})
    return not nodeaffinity.filter(pod_info("ns/p", p), n)


def test_scheduler_node_affinity() -> None:
    by_name = affinity_pod({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]})
    assert fits(by_name, "n1", {}) and not fits(by_name, "n2", {})
    exprs = affinity_pod(
        {
            "matchExpressions": [
                {"key": "zone", "operator": "In", "values": ["a", "b"]},
                {"key": "gpu", "operator": "DoesNotExist"},
            ]
        },
        {"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["8"]}]},
    )
    assert fits(exprs, "x", {"zone": "a"}) and not fits(exprs, "x", {"zone": "a", "gpu": "1"})
    assert fits(exprs, "x", {"cores": "16"}) and not fits(exprs, "x", {"cores": "8"})  # terms are ORed
    assert not fits(affinity_pod({}), "x", {})  # an empty term matches nothing
    assert not fits(affinity_pod(), "x", {})  # no terms: nothing
    notin = affinity_pod(
        {
            "matchExpressions": [
                {"key": "zone", "operator": "NotIn", "values": ["a"]},
                {"key": "os", "operator": "Exists"},
            ]
        },
        selector={"tier": "x"},
    )
    assert fits(notin, "x", {"os": "l", "tier": "x"}) and not fits(notin, "x", {"os": "l"})
    assert not fits(notin, "x", {"zone": "a", "os": "l", "tier": "x"})
    lt = affinity_pod({"matchExpressions": [{"key": "n", "operator": "Lt", "values": ["3"]}]})
    assert fits(lt, "x", {"n": "2"}) and not fits(lt, "x", {"n": "x"})

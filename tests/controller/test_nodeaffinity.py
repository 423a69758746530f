"""The NodeAffinity plugin over terms parsed once per pod: each pod's own terms, kube's matching
(nodeSelector AND required terms; terms ORed, requirements ANDed; matchFields on metadata.name;
no terms or an empty term match nothing) and preferred weights summed, then normalized."""

from __future__ import annotations

from typing import Any

from controller.scheduler import framework
from controller.scheduler.nodeinfo import NodeInfo, PodInfo, node_info, pod_info
from controller.scheduler.plugins import nodeaffinity


def node(name: str, **labels: str) -> NodeInfo:
    ready = {"allocatable": {"cpu": "4"}, "conditions": [{"type": "Ready", "status": "True"}]}
    return node_info({"metadata": {"name": name, "labels": labels}, "status": ready})


def pod(**spec: Any) -> PodInfo:
    # every pod has the same name and key: a parse kept by either would show up as a wrong answer
    return pod_info(
        "ns/p", {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"containers": [], **spec}}
    )


def affinity(required: list[Any] | None = None, preferred: list[Any] | None = None) -> dict[str, Any]:
    terms: dict[str, Any] = {"preferredDuringSchedulingIgnoredDuringExecution": preferred or []}
    if required is not None:
        terms["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": required}
    return {"nodeAffinity": terms}


def term(key: str, op: str, *values: str, on_field: bool = False) -> dict[str, Any]:
    kind = "matchFields" if on_field else "matchExpressions"
    return {kind: [{"key": key, "operator": op, "values": list(values)}]}


NODES = [node("a", zone="z1", gen="5"), node("b", zone="z2", gen="x")]


def admitted(p: PodInfo) -> list[str]:
    return [n.name for n in NODES if not nodeaffinity.filter(p, n)]


def test_each_pod_is_filtered_by_its_own_required_terms() -> None:
    assert admitted(pod(affinity=affinity([term("zone", "In", "z1")]))) == ["a"]
    assert admitted(pod(affinity=affinity([term("zone", "NotIn", "z1")]))) == ["b"]
    either = [term("zone", "In", "z1"), term("metadata.name", "In", "b", on_field=True)]
    assert admitted(pod(affinity=affinity(either))) == ["a", "b"]
    both = {
        "matchExpressions": [
            {"key": "zone", "operator": "Exists"},
            {"key": "gen", "operator": "Lt", "values": ["6"]},
        ]
    }
    assert admitted(pod(affinity=affinity([both]))) == ["a"]


def test_match_fields_and_numeric_operators() -> None:
    assert admitted(pod(affinity=affinity([term("metadata.name", "In", "b", on_field=True)]))) == ["b"]
    assert admitted(pod(affinity=affinity([term("metadata.name", "NotIn", "b", on_field=True)]))) == ["a"]
    # a field other than metadata.name has no value: NotIn holds on every node, In on none
    assert admitted(pod(affinity=affinity([term("metadata.uid", "NotIn", "a", on_field=True)]))) == ["a", "b"]
    assert admitted(pod(affinity=affinity([term("metadata.uid", "In", "a", on_field=True)]))) == []
    assert admitted(pod(affinity=affinity([term("gen", "Gt", "4")]))) == ["a"]  # "x" is no number
    assert admitted(pod(affinity=affinity([term("gen", "Lt", "x")]))) == []


def test_no_terms_or_an_empty_term_match_nothing_and_the_selector_is_anded() -> None:
    assert admitted(pod(affinity=affinity([]))) == [] and admitted(pod(affinity=affinity([{}]))) == []
    assert not nodeaffinity.skip(pod(affinity=affinity([])))
    assert nodeaffinity.skip(pod(affinity=affinity())) and admitted(pod(affinity=affinity())) == ["a", "b"]
    assert admitted(pod(nodeSelector={"zone": "z2"}, affinity=affinity([term("zone", "In", "z1")]))) == []
    assert admitted(pod(nodeSelector={"zone": "z2"}, affinity=affinity())) == ["b"]
    fit = framework.schedule(pod(affinity=affinity([{}])), NODES)
    assert isinstance(fit, framework.FitError) and fit.message == (
        "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."
    )


def test_preferred_weights_are_summed_then_normalized() -> None:
    nodes = [
        node("both", disk="ssd", zone="z1"),
        node("ssd", disk="ssd"),
        node("z1", zone="z1"),
        node("none"),
    ]
    prefer = [
        {"weight": 80, "preference": term("disk", "In", "ssd")},
        {"weight": 20, "preference": term("zone", "In", "z1")},
        {"weight": 50, "preference": {}},  # matches no node
    ]
    p = pod(affinity=affinity(preferred=prefer))
    assert not nodeaffinity.score_skip(p)
    assert nodeaffinity.scores(p, nodes) == [100.0, 80.0, 20.0, 0.0]
    assert nodeaffinity.normalize(nodeaffinity.scores(p, nodes[1:])) == [100.0, 25.0, 0.0]
    other = pod(affinity=affinity(preferred=[{"weight": 5, "preference": term("zone", "In", "z1")}]))
    assert nodeaffinity.scores(other, nodes) == [5.0, 0.0, 5.0, 0.0]
    assert nodeaffinity.score_skip(pod(affinity=affinity([term("zone", "In", "z1")])))

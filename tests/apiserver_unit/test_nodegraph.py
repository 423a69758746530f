"""The node authorizer's graph: a bound pod gives its node edges to what it uses, and a change or a
deletion of the pod takes them back (counted, so two pods using one Secret keep the edge)."""

from __future__ import annotations

from api import jsonutil
from apiserver.nodegraph import NodeGraph, pod_edges


class _NoStore:
    pass


def pod(name: str, node: str, secret: str) -> dict:
    return {
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {
            "nodeName": node,
            "serviceAccountName": "robot",
            "volumes": [
                {"name": "s", "secret": {"secretName": secret}},
                {"name": "c", "persistentVolumeClaim": {"claimName": "data"}},
            ],
            "containers": [{"name": "c", "envFrom": [{"configMapRef": {"name": "cfg"}}]}],
        },
    }


def test_edges_of_a_bound_pod() -> None:
    node, edges = pod_edges(pod("p", "n1", "s1"))
    assert node == "n1"
    assert edges == {
        ("n1", "ns", "secrets", "s1"),
        ("n1", "ns", "configmaps", "cfg"),
        ("n1", "ns", "serviceaccounts", "robot"),
        ("n1", "ns", "persistentvolumeclaims", "data"),
    }
    assert pod_edges({"metadata": {"name": "x"}, "spec": {}}) == ("", frozenset())


def test_changes_move_and_count_edges() -> None:
    g = NodeGraph(_NoStore())  # type: ignore[arg-type]
    g._changed("/registry/pods/ns/a", jsonutil.dumps(pod("a", "n1", "s1")))
    g._changed("/registry/pods/ns/b", jsonutil.dumps(pod("b", "n1", "s1")))
    assert g.allows("n1", "ns", "secrets", "s1") and not g.allows("n2", "ns", "secrets", "s1")
    g._changed("/registry/pods/ns/a", None)
    assert g.allows("n1", "ns", "secrets", "s1")  # b still uses it
    g._changed("/registry/pods/ns/b", jsonutil.dumps(pod("b", "n2", "s2")))  # b moved and changed
    assert not g.allows("n1", "ns", "secrets", "s1") and g.allows("n2", "ns", "secrets", "s2")
    assert g.claims_of("n2") == [("ns", "data")]

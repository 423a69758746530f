"""The node authorizer's graph: a bound pod gives its node edges to what it uses, and a change or a
deletion of the pod takes them back (counted, so two pods using one Secret keep the edge)."""

from __future__ import annotations

from typing import Any

import pytest

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


def test_a_status_write_of_the_same_bound_pod_is_not_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import apiserver.nodegraph

    g = NodeGraph(_NoStore())  # type: ignore[arg-type]
    first = pod("a", "n1", "s1")
    first["metadata"]["uid"] = "u1"
    g._changed("/registry/pods/ns/a", jsonutil.dumps(first))
    parsed: list[bytes] = []
    real_loads = jsonutil.loads

    def counted(b: bytes) -> Any:
        parsed.append(b)
        return real_loads(b)

    monkeypatch.setattr(apiserver.nodegraph.jsonutil, "loads", counted)
    g._changed("/registry/pods/ns/a", jsonutil.dumps(dict(first, status={"phase": "Running"})))
    assert parsed == [] and g.allows("n1", "ns", "secrets", "s1")
    # another pod under the same name (another uid) is read again
    other = pod("a", "n1", "s2")
    other["metadata"]["uid"] = "u2"
    g._changed("/registry/pods/ns/a", jsonutil.dumps(other))
    assert (
        len(parsed) == 1
        and g.allows("n1", "ns", "secrets", "s2")
        and not g.allows("n1", "ns", "secrets", "s1")
    )


def test_an_added_ephemeral_container_gives_its_node_what_it_uses() -> None:
    """`kubectl debug` adds a container to a bound pod: the Secret its env names becomes the node's to
    read, though the pod's node and uid (what skips a re-parse) did not change."""
    g = NodeGraph(_NoStore())  # type: ignore[arg-type]
    bound = pod("a", "n1", "s1")
    bound["metadata"]["uid"] = "u1"
    g._changed("/registry/pods/ns/a", jsonutil.dumps(bound))
    assert not g.allows("n1", "ns", "secrets", "debug-token")
    ref = {"name": "T", "valueFrom": {"secretKeyRef": {"name": "debug-token", "key": "t"}}}
    bound["spec"]["ephemeralContainers"] = [{"name": "debugger", "image": "busybox", "env": [ref]}]
    g._changed("/registry/pods/ns/a", jsonutil.dumps(bound))
    assert g.allows("n1", "ns", "secrets", "debug-token") and g.allows("n1", "ns", "secrets", "s1")

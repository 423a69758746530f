"""A node lifecycle pass finds each node's pods through one grouping of the pod cache
(`PodsByNode`): a grouping must not outlive its pass, and a pod handed out must be the cache's
version when the node's turn comes, not the one seen when the pods were grouped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest

from api.events import EventRecorder
from api.informer import Informer
from controller.base import ApiClient
from controller.nodelifecycle import NodeLifecycleController, PodsByNode

pytestmark = pytest.mark.anyio

GONE = {"key": "example.com/gone", "effect": "NoExecute"}  # tolerated by no pod: evicts at once


class Api:
    """Records pod deletes; `while_deleting` plays what the watch brings in while one is awaited."""

    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.while_deleting: Callable[[str], None] = lambda name: None

    async def delete(self, resource: str, name: str, namespace: str | None = None, **kw: Any) -> None:
        assert resource == "pods"
        self.deleted.append(name)
        self.while_deleting(name)

    async def patch(self, *args: Any, **kw: Any) -> None:
        raise AssertionError(f"no patch expected: {args}")


def node(name: str, *taints: dict[str, str]) -> dict[str, Any]:
    ready = {"type": "Ready", "status": "True", "lastHeartbeatTime": "t0"}
    return {"metadata": {"name": name}, "spec": {"taints": list(taints)}, "status": {"conditions": [ready]}}


def pod(name: str, on: str, **metadata: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "apps", **metadata}, "spec": {"nodeName": on}}


def controller(api: Api, nodes: list[dict[str, Any]], pods: list[dict[str, Any]]) -> NodeLifecycleController:
    node_cache, lease_cache, pod_cache = (Informer(None, r) for r in ("nodes", "leases", "pods"))  # type: ignore[arg-type]
    for n in nodes:
        node_cache.cache.put(n["metadata"]["name"], n)
    for p in pods:
        put(pod_cache, p)
    client = cast(ApiClient, api)
    return NodeLifecycleController(
        client,
        node_cache,
        lease_cache,
        pod_cache,
        EventRecorder(client, "node-controller"),
        clock=lambda: 0.0,
    )


def put(pods: Informer, p: dict[str, Any]) -> None:
    pods.cache.put(f"apps/{p['metadata']['name']}", p)


def test_pods_are_grouped_by_node_and_unbound_ones_belong_to_none() -> None:
    c = controller(Api(), [], [pod("a1", "a"), pod("b1", "b"), pod("a2", "a"), pod("pending", "")])
    grouped = PodsByNode(c.pods)
    assert [p["metadata"]["name"] for p in grouped.on("a")] == ["a1", "a2"]
    assert [p["metadata"]["name"] for p in grouped.on("b")] == ["b1"]
    assert grouped.on("c") == []


async def test_each_pass_sees_the_pods_where_they_are_now() -> None:
    api = Api()
    c = controller(api, [node("a", GONE), node("b")], [pod("web", "b")])
    await c.monitor()
    assert api.deleted == []
    # recreated on the tainted node between two passes: the next pass must not reuse the last grouping
    put(c.pods, pod("web", "a"))
    await c.monitor()
    assert api.deleted == ["web"]


async def test_a_pod_changed_during_the_pass_is_seen_as_it_is_when_its_node_comes() -> None:
    api = Api()
    c = controller(
        api,
        [node("a", GONE), node("b", GONE)],
        [pod("first", "a"), pod("leaving", "b"), pod("moved", "b"), pod("deleted", "b"), pod("stays", "b")],
    )

    def watch_meanwhile(name: str) -> None:
        # while node a's pod is being deleted, the cache learns what happened to node b's pods
        if name == "first":
            put(c.pods, pod("leaving", "b", deletionTimestamp="2026-01-01T00:00:00Z"))
            put(c.pods, pod("moved", "elsewhere"))
            c.pods.cache.remove("apps/deleted")

    api.while_deleting = watch_meanwhile
    await c.monitor()
    assert api.deleted == ["first", "stays"]

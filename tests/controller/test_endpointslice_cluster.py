"""The EndpointSlice controller against a real `kubelite server`: slices follow a service's
pods (readiness, deletion, scale past the per-slice limit), hand-made Endpoints are mirrored,
and a deleted service takes its slices along."""

from __future__ import annotations

from typing import Any

import pytest

from controller.endpointslice_decisions import MANAGED_BY_LABEL, MIRRORING_NAME, SERVICE_NAME_LABEL
from tests.controller.cluster import Cluster, eventually

pytestmark = pytest.mark.anyio
Obj = dict[str, Any]


async def _slices(cluster: Cluster, svc: str, ns: str = "default") -> list[Obj]:
    items = (await cluster.client.list("endpointslices", ns, label_selector=f"{SERVICE_NAME_LABEL}={svc}"))[
        "items"
    ]
    return list(items)


async def _service(cluster: Cluster, name: str, **spec: Any) -> Obj:
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}
    return dict(await cluster.client.create("services", body, "default"))


def _pod(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {
            "nodeName": "node-0",
            "containers": [
                {"name": "c", "image": "busybox:1", "ports": [{"name": "web", "containerPort": 8080}]}
            ],
        },
    }


async def test_slices_follow_pods_and_service(cluster: Cluster) -> None:
    await cluster.add_node("node-0")
    cluster.play_kubelets()
    cluster.start_controllers(controllers=("endpointslice", "garbagecollector"))
    svc = await _service(
        cluster, "web", selector={"app": "web"}, ports=[{"name": "http", "port": 80, "targetPort": "web"}]
    )

    async def placeholder() -> list[Obj] | None:
        s = await _slices(cluster, "web")
        return s if len(s) == 1 and not s[0]["endpoints"] else None

    [ph] = await eventually(placeholder, what="placeholder slice")
    assert ph["metadata"]["ownerReferences"][0]["uid"] == svc["metadata"]["uid"]
    for i in range(3):
        await cluster.client.create("pods", _pod(f"web-{i}"), "default")

    async def ready(n: int) -> list[Obj] | None:
        s = await _slices(cluster, "web")
        eps = [e for x in s for e in x["endpoints"] if e["conditions"]["ready"]]
        return s if len(eps) == n and len(s) == 1 else None

    [s] = await eventually(lambda: ready(3), what="3 ready endpoints in one slice")
    assert s["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert s["metadata"]["labels"][MANAGED_BY_LABEL] == "endpointslice-controller.k8s.io"
    assert all(e["nodeName"] == "node-0" for e in s["endpoints"])
    # a deleted pod leaves the slice (the terminating conditions are covered by the decision tests)
    await cluster.client.delete("pods", "web-0", "default")
    await eventually(lambda: ready(2), what="deleted pod leaves")
    # the service goes: its slices go with it
    await cluster.client.delete("services", "web", "default")

    async def gone() -> bool:
        return not await _slices(cluster, "web")

    await eventually(gone, what="slices deleted")


async def test_more_than_the_limit_spreads_over_slices(cluster: Cluster) -> None:
    await cluster.add_node("node-0")
    cluster.play_kubelets()
    cluster.start_controllers(controllers=("endpointslice",))
    await _service(cluster, "web", selector={"app": "web"}, ports=[{"port": 80, "targetPort": 8080}])
    for i in range(130):
        await cluster.client.create("pods", _pod(f"web-{i}"), "default")

    async def spread() -> list[int] | None:
        sizes = sorted(len(s["endpoints"]) for s in await _slices(cluster, "web"))
        return sizes if sizes == [30, 100] else None

    await eventually(spread, timeout=30, what="130 endpoints over two slices")


async def test_hand_made_endpoints_are_mirrored(cluster: Cluster) -> None:
    cluster.start_controllers(controllers=("endpointslice",))
    await _service(cluster, "ext", ports=[{"port": 80}])
    await cluster.client.create(
        "endpoints",
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "ext"},
            "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 8080}]}],
        },
        "default",
    )

    async def mirrored() -> list[Obj] | None:
        s = await _slices(cluster, "ext")
        return s if s and s[0]["endpoints"] else None

    [s] = await eventually(mirrored, what="mirrored slice")
    assert s["metadata"]["labels"][MANAGED_BY_LABEL] == MIRRORING_NAME
    assert s["endpoints"][0]["addresses"] == ["192.0.2.10"]
    # the kubernetes service's Endpoints say skip-mirror: only the server's own slice is there
    own = await _slices(cluster, "kubernetes")
    assert [x["metadata"]["name"] for x in own] == ["kubernetes"]

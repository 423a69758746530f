"""The lean HTTP client against a real server: verbs, errors, watch lines, stale keep-alive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from api.aclient import AsyncClient
from api.config import from_kubeconfig
from api.errors import ApiError
from tests.controller.cluster import Cluster

pytestmark = pytest.mark.anyio


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    c = await Cluster().start()
    try:
        yield c
    finally:
        await c.close()


async def test_verbs_errors_watch_and_reconnect_after_server_restart(cluster: Cluster) -> None:
    c = AsyncClient(from_kubeconfig([cluster.server.kubeconfig]), max_connections=4)
    listed = await c.list("pods", "default")
    rv = listed["metadata"]["resourceVersion"]
    events: list[str] = []

    async def watch() -> None:
        async for ev in c.watch("pods", "default", resource_version=rv):
            events.append(f'{ev["type"]} {ev["object"]["metadata"]["name"]}')

    w = asyncio.create_task(watch())
    pods = [{"metadata": {"name": f"p{i}"}, "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}
            for i in range(20)]
    created = await asyncio.gather(*(c.create("pods", p, "default") for p in pods))
    assert {p["metadata"]["name"] for p in created} == {f"p{i}" for i in range(20)}
    with pytest.raises(ApiError) as err:
        await c.get("pods", "nope", "default")
    assert err.value.code == 404 and err.value.reason == "NotFound"
    with pytest.raises(ApiError) as err:
        await c.create("pods", pods[0], "default")
    assert err.value.code == 409
    patched = await c.patch("pods", "p0", {"metadata": {"labels": {"a": "b"}}}, namespace="default")
    assert patched["metadata"]["labels"] == {"a": "b"}
    loop = asyncio.get_running_loop()
    end = loop.time() + 5
    while len(events) < 21 and loop.time() < end:
        await asyncio.sleep(0.02)
    assert events[:20] and all(e.startswith("ADDED") for e in events[:20]) and events[20] == "MODIFIED p0"
    w.cancel()
    # the server restarts: pooled keep-alive connections are dead, the next call reconnects
    await asyncio.to_thread(cluster.server.stop)
    await asyncio.to_thread(cluster.server.start)
    got = await c.get("pods", "p1", "default")
    assert got["metadata"]["name"] == "p1"
    await c.aclose()

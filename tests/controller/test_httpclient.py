"""The lean HTTP client against a real server: verbs, errors, watch lines, stale keep-alive."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from api.aclient import AsyncClient
from api.config import from_kubeconfig
from api.errors import ApiError
from tests.controller.cluster import Cluster

pytestmark = pytest.mark.anyio


async def test_verbs_errors_watch_and_reconnect_after_server_restart(cluster: Cluster) -> None:
    c = AsyncClient(from_kubeconfig([cluster.server.kubeconfig]), max_connections=4)
    listed = await c.list("pods", "default")
    rv = listed["metadata"]["resourceVersion"]
    events: list[str] = []

    async def watch() -> None:
        async for ev in c.watch("pods", "default", resource_version=rv):
            events.append(f"{ev['type']} {ev['object']['metadata']['name']}")

    w = asyncio.create_task(watch())
    pods = [
        {"metadata": {"name": f"p{i}"}, "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}
        for i in range(20)
    ]
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


async def test_plain_http_over_a_unix_socket(tmp_path) -> None:
    """`http+unix://` (the API server's private socket for its own control loops): same wire, no TLS."""
    from urllib.parse import quote

    from api.config import ClientConfig

    seen: list[bytes] = []

    async def answer(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):  # the client hung up
            while head := await r.readuntil(b"\r\n\r\n"):
                seen.append(head)
                body = b'{"kind":"Namespace","metadata":{"name":"default"}}'
                w.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
                await w.drain()
        w.close()

    path = str(tmp_path / "api.sock")
    srv = await asyncio.start_unix_server(answer, path)
    c = AsyncClient(ClientConfig(server="http+unix://" + quote(path, safe=""), token="t0ken"))
    try:
        for _ in range(2):  # the second request reuses the kept-alive connection
            assert (await c.get("namespaces", "default"))["metadata"]["name"] == "default"
        assert len(seen) == 2 and seen[0].startswith(b"GET /api/v1/namespaces/default HTTP/1.1\r\n")
        assert b"Authorization: Bearer t0ken" in seen[0] and b"Host: localhost:80" in seen[0]
    finally:
        await c.aclose()
        srv.close()
        await srv.wait_closed()

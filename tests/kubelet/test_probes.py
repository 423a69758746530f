"""Probe attempts against real servers on loopback, in the kubelet's words, and the Unhealthy
events a failing probe records through the kubelet's loop."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest

from apiserver import certs
from kubelet.probecheck import run_probe
from runtime.fake import FakeRuntime
from tests.apiserver.conftest import free_port
from tests.controller.fakeapi import FakeApi
from tests.kubelet.loop import events, failing_probe, http_server, lifecycle_pod, running_kubelet, statuses
from tests.polling import until

pytestmark = pytest.mark.anyio


async def never_exec(cid: str, cmd: list[str], timeout: float) -> tuple[int, bytes]:
    if cmd[:1] == ["slow"]:
        await asyncio.sleep(timeout + 1)
    return (
        (1, b"cat: can't open '/tmp/healthy': No such file or directory\n")
        if cmd[:1] == ["cat"]
        else (0, b"")
    )


async def test_failures_are_worded_as_the_kubelet_words_them() -> None:
    c: dict[str, Any] = {"name": "c", "ports": [{"name": "web", "containerPort": 0}]}
    async with http_server(answer=503) as (port, seen):
        probe = {
            "httpGet": {
                "port": port,
                "path": "/healthz",
                "httpHeaders": [{"name": "X-Probe", "value": "1"}],
            }
        }
        assert await run_probe(probe, c, "cid", "127.0.0.1", never_exec) == (
            False,
            "HTTP probe failed with statuscode: 503",
        )
        assert "X-Probe: 1" in seen[0] and "User-Agent: kube-probe/" in seen[0]
    async with http_server(answer=302) as (port, _):
        c["ports"][0]["containerPort"] = port
        assert await run_probe({"httpGet": {"port": "web"}}, c, "cid", "127.0.0.1", never_exec) == (
            True,
            "",
        )
    refused = free_port()
    assert await run_probe({"tcpSocket": {"port": refused}}, c, "cid", "127.0.0.1", never_exec) == (
        False,
        f"dial tcp 127.0.0.1:{refused}: connect: connection refused",
    )
    ok, why = await run_probe({"httpGet": {"port": refused, "path": "/x"}}, c, "cid", "127.0.0.1", never_exec)
    assert (
        not ok
        and why
        == f'Get "http://127.0.0.1:{refused}/x": dial tcp 127.0.0.1:{refused}: connect: connection refused'
    )
    assert await run_probe({"exec": {"command": ["cat", "/tmp/healthy"]}}, c, "cid", "", never_exec) == (
        False,
        "cat: can't open '/tmp/healthy': No such file or directory\n",
    )
    assert (await run_probe({"exec": {"command": ["true"]}}, c, "cid", "", never_exec))[0]


async def test_https_probes_do_not_verify_the_certificate(tmp_path: Path) -> None:
    tls = certs.ensure_certs(tmp_path / "ca", [])  # a server certificate from a CA the probe does not know

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls.server_cert, tls.server_key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    probe = {"httpGet": {"port": port, "scheme": "HTTPS"}}
    assert await run_probe(probe, {"name": "c"}, "cid", "127.0.0.1", never_exec) == (True, "")
    server.close()


async def test_a_failing_probe_records_unhealthy_events(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    probe = failing_probe(rt, "check")
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", lifecycle_pod("sick", {}, container={"readinessProbe": probe}))
        await until(lambda: "running" in statuses(api, "sick").get("c", {}).get("state", {}))
        await until(lambda: ("Unhealthy", "Readiness probe failed: ") in events(api, "sick"))
        unhealthy = [e for e in api.objs("events") if e["reason"] == "Unhealthy"]
        assert len(unhealthy) == 1 and unhealthy[0]["type"] == "Warning"  # repeats fold into its count
        await until(lambda: next(e for e in api.objs("events") if e["reason"] == "Unhealthy")["count"] > 1)

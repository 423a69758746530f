"""The gRPC probe against a real gRPC server (grpcio's standard health servicer), and as a probe."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from grpc_health.v1 import health, health_pb2

from kubelet.grpcprobe import grpc_check, grpc_timeout, hpack_int
from kubelet.probes import ProbeManager
from tests.apiserver.conftest import free_port

pytestmark = pytest.mark.anyio

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def test_serving_passes_and_anything_else_fails(
    health_server: tuple[int, health.HealthServicer],
) -> None:
    port, servicer = health_server
    servicer.set("", SERVING)
    servicer.set("kubelite.Web", NOT_SERVING)

    assert await grpc_check("127.0.0.1", port, "", 2) == (True, "")
    ok, why = await grpc_check("127.0.0.1", port, "kubelite.Web", 2)
    assert not ok and "NOT_SERVING" in why
    servicer.set("kubelite.Web", SERVING)
    assert (await grpc_check("127.0.0.1", port, "kubelite.Web", 2))[0]
    ok, why = await grpc_check("127.0.0.1", port, "no.such.Service", 2)  # NOT_FOUND
    assert not ok
    servicer.enter_graceful_shutdown()  # every service turns NOT_SERVING
    assert not (await grpc_check("127.0.0.1", port, "", 2))[0]


async def test_long_service_name_and_many_checks_on_one_server(
    health_server: tuple[int, health.HealthServicer],
) -> None:
    port, servicer = health_server
    name = "a." + "x" * 300  # lengths past one byte in both HPACK and protobuf
    servicer.set(name, SERVING)

    results = await asyncio.gather(*(grpc_check("127.0.0.1", port, name, 2) for _ in range(20)))
    assert all(ok for ok, _ in results)


async def test_refused_and_silent_servers_fail() -> None:
    ok, why = await grpc_check("127.0.0.1", free_port(), "", 1)
    assert not ok and "failed" in why

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        await asyncio.sleep(5)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    started = loop.time()
    ok, why = await grpc_check("127.0.0.1", port, "", 0.3)
    assert not ok and "timeout" in why and loop.time() - started < 1.5
    server.close()


async def test_probe_manager_runs_grpc_probes(health_server: tuple[int, health.HealthServicer]) -> None:
    port, servicer = health_server
    servicer.set("", NOT_SERVING)

    async def no_exec(cid: str, cmd: list[str], timeout: float) -> tuple[int, bytes]:
        raise AssertionError("a grpc probe never execs")

    probes = ProbeManager(no_exec, lambda uid: None)
    container: dict[str, Any] = {"name": "c"}
    probe = {"grpc": {"port": port}, "timeoutSeconds": 1}
    assert not await probes.probe_once(probe, container, "cid", "127.0.0.1")
    servicer.set("", SERVING)
    assert await probes.probe_once(probe, container, "cid", "127.0.0.1")
    assert not await probes.probe_once({"grpc": {"port": free_port()}}, container, "cid", "127.0.0.1")
    assert not await probes.probe_once({}, container, "cid", "127.0.0.1")  # no handler is no pass


def test_hpack_integers() -> None:  # RFC 7541 C.1 examples
    assert hpack_int(10, 5) == b"\x0a"
    assert hpack_int(1337, 5) == bytes([31, 154, 10])
    assert hpack_int(42, 8) == b"\x2a"


def test_grpc_timeout_header() -> None:  # at most 8 digits
    assert [grpc_timeout(s) for s in (0.0001, 1, 86_400, 200_000)] == ["1m", "1000m", "86400000m", "200000S"]

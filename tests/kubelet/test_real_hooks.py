"""Lifecycle hooks and a gRPC probe with real containers: the kubelet's loop (fake API) over
RealRuntime (busybox under runc and conmon), host-network pods so no bridge is needed.
Run under the real-container lock: `flock /tmp/kl-real.lock pytest tests/kubelet/test_real_hooks.py`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from grpc_health.v1 import health, health_pb2

from runtime.images import ImageStore
from runtime.images.base import build_base
from runtime.real import RealRuntime
from tests.controller.fakeapi import FakeApi
from tests.kubelet.loop import NODE, delete, events, http_server, running, running_kubelet, statuses
from tests.polling import until
from tests.runtime.containers.conftest import conmons_for

pytestmark = pytest.mark.anyio

# a PID 1 that ends on SIGTERM (a plain `sleep` as PID 1 ignores it and waits for SIGKILL)
SERVE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]


@pytest.fixture
def real_runtime(tmp_path: Path) -> Iterator[RealRuntime]:
    build_base(ImageStore(tmp_path / "images"))
    rt = RealRuntime(tmp_path / "rt", image_root=tmp_path / "images")
    yield rt

    async def clean() -> None:
        for c in await rt.list_containers():
            await rt.stop_container(c.id, 0)
            await rt.remove_container(c.id)
        for s in await rt.list_sandboxes():
            await rt.stop_sandbox(s.id)
            await rt.remove_sandbox(s.id)

    asyncio.run(clean())
    assert conmons_for(tmp_path / "rt") == []


async def no_containers(rt: RealRuntime, timeout: float = 60) -> None:
    """Wait until the kubelet has removed every container (the runtime is only asked, not told)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while left := await rt.list_containers():
        assert loop.time() < deadline, f"containers left: {[c.name for c in left]}"
        await asyncio.sleep(0.1)


def pod(name: str, container: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "default", "finalizers": ["kubelite.io/test"]},
        "spec": {
            "nodeName": NODE,
            "hostNetwork": True,
            "terminationGracePeriodSeconds": 5,
            "containers": [{"name": "c", "image": "busybox:1.35", "command": SERVE, **container}],
        },
    }


async def test_post_start_and_pre_stop_in_real_containers(real_runtime: RealRuntime, tmp_path: Path) -> None:
    rt = real_runtime

    api = FakeApi()
    async with running_kubelet(api, rt, tmp_path / "kubelet"), http_server() as (port, seen):
        lifecycle = {
            "postStart": {"exec": {"command": ["sh", "-c", "echo started > /tmp/post"]}},
            "preStop": {"httpGet": {"host": "127.0.0.1", "port": port, "path": "/bye"}},
        }
        await api.create("pods", pod("hooked", {"lifecycle": lifecycle}))
        await api.create(
            "pods",
            pod(
                "failing",
                {"lifecycle": {"postStart": {"exec": {"command": ["sh", "-c", "echo no >&2; exit 3"]}}}},
            ),
        )
        await until(lambda: running(api, "hooked"), 60)
        cid = statuses(api, "hooked")["c"]["containerID"].split("://")[-1]
        result = await rt.exec_sync(cid, ["cat", "/tmp/post"], 5)
        assert result.stdout == b"started\n"  # the hook ran in the container before it was Running

        failed = await until(lambda: [m for r, m in events(api, "failing") if r == "FailedPostStartHook"], 60)
        assert "exited with 3" in failed[0] and '"no\\n"' in failed[0]
        await until(lambda: statuses(api, "failing").get("c", {}).get("restartCount", 0) >= 1, 60)

        await delete(api, "hooked", 5)
        await delete(api, "failing", 1)
        await no_containers(rt)
        assert seen and seen[0].startswith("GET /bye ")


async def test_grpc_readiness_gates_a_real_pod(
    real_runtime: RealRuntime, tmp_path: Path, health_server: tuple[int, health.HealthServicer]
) -> None:
    port, servicer = health_server
    servicer.set("kubelite.App", health_pb2.HealthCheckResponse.NOT_SERVING)

    api = FakeApi()
    probe = {
        "grpc": {"port": port, "service": "kubelite.App"},
        "periodSeconds": 0.1,
        "failureThreshold": 1,
    }
    async with running_kubelet(api, real_runtime, tmp_path / "kubelet"):
        await api.create("pods", pod("grpc", {"readinessProbe": probe}))
        await until(lambda: running(api, "grpc"), 60)
        assert statuses(api, "grpc")["c"]["ready"] is False
        servicer.set("kubelite.App", health_pb2.HealthCheckResponse.SERVING)
        await until(lambda: statuses(api, "grpc")["c"]["ready"], 10)
        servicer.set("kubelite.App", health_pb2.HealthCheckResponse.NOT_SERVING)
        await until(lambda: not statuses(api, "grpc")["c"]["ready"], 10)
        await delete(api, "grpc", 1)
        await no_containers(real_runtime)

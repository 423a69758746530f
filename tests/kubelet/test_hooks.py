"""Lifecycle hooks through the kubelet's loop (fake API, fake runtime, real HTTP servers on loopback):
postStart gates Running and kills on failure, preStop runs before every kill within the grace period."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from runtime.fake import FakeRuntime
from runtime.interface import ExecResult
from tests.controller.fakeapi import FakeApi
from tests.kubelet.loop import (
    delete,
    events,
    failing_probe,
    http_server,
    lifecycle_pod,
    running,
    running_kubelet,
    status,
    statuses,
)
from tests.polling import until

pytestmark = pytest.mark.anyio


class HookRuntime(FakeRuntime):
    """The fake runtime, remembering each exec's command; `gate` holds execs of `wait-gate`."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.commands: list[list[str]] = []

    async def exec_sync(self, container_id: str, cmd: list[str], timeout: float | None = None) -> ExecResult:
        self.commands.append(cmd)
        self.calls.append(("exec:" + " ".join(cmd), container_id))
        if cmd[:1] == ["wait-gate"]:
            await self.gate.wait()
        return await super().exec_sync(container_id, cmd, timeout)


async def test_post_start_holds_running_until_it_completes(tmp_path: Path) -> None:
    api, rt = FakeApi(), HookRuntime()
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", lifecycle_pod("held", {"postStart": {"exec": {"command": ["wait-gate"]}}}))
        await until(lambda: ["wait-gate"] in rt.commands)  # the container started, its hook runs
        # a positive sign that the kubelet is reporting meanwhile: a pod created later gets to Running
        await api.create("pods", lifecycle_pod("later", {}))
        await until(lambda: status(api, "later").get("phase") == "Running")
        assert not running(api, "held") and status(api, "held").get("phase") != "Running"
        rt.gate.set()
        await until(lambda: running(api, "held"))
        verbs = [v for v, _ in rt.calls]
        assert verbs.index("start_container") < verbs.index("exec:wait-gate")


async def test_failed_post_start_kills_and_restart_policy_applies(tmp_path: Path) -> None:
    api, rt = FakeApi(), HookRuntime()
    rt.exec_exit_codes["false"] = 1
    hook = {"postStart": {"exec": {"command": ["false"]}}}
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", lifecycle_pod("again", hook))
        await api.create("pods", lifecycle_pod("once", hook, restartPolicy="Never"))
        await until(lambda: statuses(api, "again").get("c", {}).get("restartCount", 0) >= 1, 10)
        failed = await until(lambda: [m for r, m in events(api, "again") if r == "FailedPostStartHook"])
        uid = api.objects[("pods", "default", "again")]["metadata"]["uid"]
        assert failed[0] == (
            f'Exec lifecycle hook ([false]) for Container "c" in Pod "again_default({uid})" '
            "failed - error: command 'false' exited with 1: , message: \"\""
        )
        await until(lambda: ("Killing", "FailedPostStartHook") in events(api, "again"))
        await until(lambda: status(api, "once").get("phase") == "Failed")
        assert statuses(api, "once")["c"]["state"]["terminated"]["exitCode"] == 137
        assert not any(c.info.state == "running" for c in rt.containers.values())


async def test_post_start_http_get_and_the_unsupported_tcp_socket(tmp_path: Path) -> None:
    api, rt = FakeApi(), HookRuntime()
    async with running_kubelet(api, rt, tmp_path), http_server(answer=500) as (port, seen):
        get = {
            "host": "127.0.0.1",
            "port": port,
            "path": "/started",
            "httpHeaders": [{"name": "X-Hook", "value": "yes"}],
        }
        await api.create("pods", lifecycle_pod("web", {"postStart": {"httpGet": get}}))
        await until(lambda: running(api, "web"))
        assert seen[0].startswith("GET /started HTTP/1.1") and "X-Hook: yes" in seen[0]
        assert "User-Agent: kube-lifecycle/" in seen[0]  # any answer, even a 500, is success
        await api.create("pods", lifecycle_pod("tcp", {"postStart": {"tcpSocket": {"port": port}}}))
        msg = await until(lambda: [m for r, m in events(api, "tcp") if r == "FailedPostStartHook"])
        assert msg[0].startswith("Cannot run handler: invalid handler")


async def test_deletion_cuts_a_long_post_start_short(tmp_path: Path) -> None:
    api, rt = FakeApi(), HookRuntime()
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", lifecycle_pod("slow", {"postStart": {"sleep": {"seconds": 300}}}))
        await until(lambda: any(v == "start_container" for v, _ in rt.calls))
        await delete(api, "slow", 1)
        await until(lambda: not rt.containers, 10)
        assert not running(api, "slow")


async def test_pre_stop_runs_before_a_liveness_kill(tmp_path: Path) -> None:
    api, rt = FakeApi(), HookRuntime()
    probe = failing_probe(rt, "unhealthy")
    async with running_kubelet(api, rt, tmp_path):
        await api.create(
            "pods",
            lifecycle_pod(
                "live", {"preStop": {"exec": {"command": ["drain"]}}}, container={"livenessProbe": probe}
            ),
        )
        await until(lambda: statuses(api, "live").get("c", {}).get("restartCount", 0) >= 1, 10)
        verbs = [v for v, _ in rt.calls]
        assert verbs.index("exec:drain") < verbs.index("stop_container")
        await until(
            lambda: ("Killing", "Container c failed liveness probe, will be restarted") in events(api, "live")
        )


async def test_pre_stop_http_get_on_deletion_and_its_failure_is_an_event(tmp_path: Path) -> None:
    api, rt = FakeApi(), HookRuntime()
    async with running_kubelet(api, rt, tmp_path), http_server() as (port, seen):
        await api.create(
            "pods",
            lifecycle_pod(
                "drain", {"preStop": {"httpGet": {"host": "127.0.0.1", "port": port, "path": "/drain"}}}
            ),
        )
        await api.create(
            "pods",
            lifecycle_pod("broken", {"preStop": {"httpGet": {"host": "127.0.0.1", "port": 1, "path": "/x"}}}),
        )
        await until(lambda: running(api, "drain") and running(api, "broken"))
        await delete(api, "drain", 5)
        await delete(api, "broken", 5)
        await until(lambda: not rt.containers, 10)
        assert seen and seen[0].startswith("GET /drain ")
        await until(lambda: ("Killing", "Stopping container c") in events(api, "drain"))
        failed = await until(lambda: [m for r, m in events(api, "broken") if r == "FailedPreStopHook"])
        assert failed[0].startswith('HTTP lifecycle hook (/x) for Container "c" in Pod "broken_default(')


async def test_pre_stop_is_bounded_by_the_grace_period(tmp_path: Path) -> None:
    api, rt = FakeApi(), HookRuntime()
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", lifecycle_pod("stuck", {"preStop": {"sleep": {"seconds": 300}}}))
        await until(lambda: running(api, "stuck"))
        loop = asyncio.get_running_loop()
        started = loop.time()
        await delete(api, "stuck", 1)
        await until(lambda: not rt.containers, 10)
        assert 0.9 < loop.time() - started < 5


async def test_a_failed_startup_probe_kills_with_its_own_words_and_pre_stop(tmp_path: Path) -> None:
    api, rt = FakeApi(), HookRuntime()
    probe = failing_probe(rt, "not-yet", 2)
    async with running_kubelet(api, rt, tmp_path):
        await api.create(
            "pods",
            lifecycle_pod(
                "slow", {"preStop": {"exec": {"command": ["drain"]}}}, container={"startupProbe": probe}
            ),
        )
        await until(lambda: statuses(api, "slow").get("c", {}).get("restartCount", 0) >= 1, 10)
        await until(
            lambda: ("Killing", "Container c failed startup probe, will be restarted") in events(api, "slow")
        )
        verbs = [v for v, _ in rt.calls]
        assert verbs.index("exec:drain") < verbs.index("stop_container")

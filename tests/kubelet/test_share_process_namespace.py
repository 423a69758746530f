"""spec.shareProcessNamespace on the kubelet's side: which process namespace each container is
asked for (kube's PidNamespaceForPod and its TARGET rule, pure), and on the kubelet's loop with
the fake runtime (as a hollow node runs it) what the sandbox and every kind of container of such
a pod are made with; a pod whose sandbox died gets a new one after the old one is stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelet.containerconfig import (
    PID_CONTAINER,
    PID_NODE,
    PID_POD,
    container_config,
    pid_namespace,
    pid_target,
)
from runtime.fake import FakeRuntime
from runtime.interface import SandboxConfig, SandboxInfo
from tests.controller.fakeapi import FakeApi
from tests.kubelet.loop import delete, pod, running_kubelet, status
from tests.polling import until

SHARED = {"shareProcessNamespace": True}


@pytest.mark.parametrize(
    ("spec", "mode", "target"),
    [
        ({}, PID_CONTAINER, "c1"),
        ({"shareProcessNamespace": False}, PID_CONTAINER, "c1"),
        (SHARED, PID_POD, ""),
        ({"hostPID": True}, PID_NODE, ""),
        ({"hostPID": True, **SHARED}, PID_NODE, ""),  # refused by the API; the node's would win
    ],
)
def test_the_pods_process_namespace_and_a_debuggers_target(
    spec: dict[str, Any], mode: str, target: str
) -> None:
    """NamespaceMode TARGET only where each container has its own: in a pod sharing one (or the
    node's), an ephemeral container with targetContainerName is in that one like the rest."""
    assert pid_namespace(spec) == mode
    assert pid_target(spec, "c1") == target


def test_every_container_of_a_sharing_pod_asks_for_the_pods_namespace(tmp_path: Path) -> None:
    sandbox = SandboxInfo(
        "sb", SandboxConfig("p", "default", "u1", "p", share_pid=True), "10.0.0.2", "/n", "ready", 1
    )
    for spec, pod_pid, host_pid in (
        (SHARED, True, False),
        ({}, False, False),
        ({"hostPID": True}, False, True),
    ):
        c: dict[str, Any] = {"name": "c", "image": "i"}
        p = {"metadata": {"name": "p", "uid": "u1"}, "spec": {"containers": [c], **spec}}
        cfg = container_config(p, c, sandbox, 0, tmp_path, "10.0.0.1", lambda ns: [])
        assert (cfg.pod_pid, cfg.host_pid) == (pod_pid, host_pid)


def made(rt: FakeRuntime, name: str) -> list[Any]:
    return [c for c in rt.containers.values() if c.config.name == name]


@pytest.mark.anyio
async def test_a_sharing_pods_sandbox_and_all_its_containers(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path):
        init = [{"name": "setup", "image": "busybox:1.35"}]
        containers = [
            {"name": "web", "image": "kubelite/web:1.0"},
            {"name": "shell", "image": "busybox:1.35"},
        ]
        await api.create("pods", pod("shared", containers, initContainers=init, **SHARED))
        await api.create("pods", pod("apart", [{"name": "alone", "image": "busybox:1.35"}]))
        (setup,) = await until(lambda: made(rt, "setup") or None)
        rt.exit(setup.info.id, 0)
        await until(lambda: status(api, "shared").get("phase") == "Running")
        by_pod = {s.config.name: s.config for s in rt.sandboxes.values()}
        assert by_pod["shared"].share_pid and not by_pod["apart"].share_pid
        for name in ("setup", "web", "shell"):
            (c,) = made(rt, name)
            assert (c.config.pod_pid, c.config.host_pid, c.config.pid_target) == (True, False, "")
        await until(lambda: made(rt, "alone") or None)
        assert not made(rt, "alone")[0].config.pod_pid
        # kubectl debug --target: the debugger is in the pod's namespace, not the target's own
        spec = api.objects[("pods", "default", "shared")]["spec"]
        debug = {"name": "debug", "image": "busybox:1.35", "targetContainerName": "web"}
        await api.patch("pods", "shared", {"spec": {"ephemeralContainers": [debug]}}, namespace="default")
        (dbg,) = await until(lambda: made(rt, "debug") or None)
        assert (dbg.config.pod_pid, dbg.config.pid_target) == (True, "")
        assert spec["shareProcessNamespace"] is True

        # the sandbox dies (its pause killed, say): it is stopped, and a new one runs the pod again
        old = next(s for s in rt.sandboxes.values() if s.config.name == "shared")
        await rt.stop_sandbox(old.id)
        calls = len(rt.calls)
        await until(lambda: len([s for s in rt.sandboxes.values() if s.config.name == "shared"]) == 2)
        (setup,) = await until(lambda: made(rt, "setup") or None)  # initialised again, first
        assert setup.info.sandbox_id != old.id and setup.config.pod_pid
        rt.exit(setup.info.id, 0)
        await until(lambda: len(made(rt, "web")) == 1 and made(rt, "web")[0].info.state == "running")
        assert ("stop_sandbox", old.id) in rt.calls[calls:]
        new = next(s for s in rt.sandboxes.values() if s.config.name == "shared" and s.id != old.id)
        assert new.config.share_pid and made(rt, "web")[0].info.sandbox_id == new.id
        await delete(api, "shared", 1)
        await until(lambda: not [s for s in rt.sandboxes.values() if s.config.name == "shared"])

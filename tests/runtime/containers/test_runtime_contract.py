"""One behavioural suite of the `Runtime` seam, run over RealRuntime (runc under conmon, real network
namespaces) and FakeRuntime (hollow nodes, kubelet unit tests): the same calls, the same assertions,
so a kubelet tested on the fake is tested against what the real runtime does.

The fake's world is set up to match the real one's (busybox is there, `no-such:image` is not, a
registry at 127.0.0.1:1 refuses); nothing below branches on which runtime it drives.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.containers.logs import parse_time_ns
from runtime.fake import FakeRuntime
from runtime.interface import ContainerConfig, Runtime, SandboxConfig
from runtime.network import BridgeNetwork, NetworkConfig
from runtime.real import RealRuntime
from tests.runtime.containers.conftest import NetParams, conmons_for

MISSING_IMAGE = "no-such:image"
UNREACHABLE = "127.0.0.1:1/nothing:1"  # connection refused at once, no internet needed


@pytest.fixture(params=["real", "fake"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    if request.param == "fake":
        fake = FakeRuntime()
        fake.missing_images.add(MISSING_IMAGE)
        fake.unpullable.add(UNREACHABLE)
        yield fake
        return
    image_root: Path = request.getfixturevalue("image_root")
    params: NetParams = request.getfixturevalue("net_params")
    net = BridgeNetwork(NetworkConfig(state_dir=tmp_path / "net", bridge=params.bridge, subnet=params.subnet))
    real = RealRuntime(tmp_path / "rt", network=net, image_root=image_root)
    try:
        yield real
    finally:

        async def clean() -> None:
            for sb in await real.list_sandboxes():
                await real.remove_sandbox(sb.id)

        asyncio.run(clean())
        for sb in net.list():
            net.teardown(sb.sandbox_id)
        net.delete_bridge()
    assert conmons_for(tmp_path / "rt") == []


def sync(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body on a fresh event loop, with a deadline well inside pytest's own."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(asyncio.wait_for(fn(*args, **kwargs), 60))

    return wrapper


def pod(uid: str, host_network: bool = False, share_pid: bool = False) -> SandboxConfig:
    return SandboxConfig(
        name=f"pod-{uid}",
        namespace="contract",
        uid=f"{uid}-{os.getpid()}",
        hostname=f"pod-{uid}",
        host_network=host_network,
        share_pid=share_pid,
    )


async def wait_exited(rt: Runtime, cid: str, timeout: float = 10) -> None:
    """Poll the status (an async call, which tests.polling.until cannot make) until exited, with a deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (st := await rt.container_status(cid)).state != "exited":
        if loop.time() > deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {st.name} to exit (state {st.state})"
            )
        await asyncio.sleep(0.01)


@sync
async def test_sandboxes_come_up_stop_and_go_with_their_containers(rt: Runtime) -> None:
    sb = await rt.run_sandbox(pod("s1"))
    host = await rt.run_sandbox(pod("s2", host_network=True))
    assert sb.state == "ready" and sb.ip and sb.netns_path and sb.config.uid == f"s1-{os.getpid()}"
    assert host.state == "ready" and host.ip == "" and host.netns_path == ""
    assert {s.id for s in await rt.list_sandboxes()} == {sb.id, host.id}
    cid = await rt.create_container(
        sb.id, ContainerConfig(name="c", image="busybox", command=["sleep", "300"])
    )
    await rt.start_container(cid)

    await rt.stop_sandbox(sb.id)
    assert {s.id: s.state for s in await rt.list_sandboxes()} == {sb.id: "notready", host.id: "ready"}
    st = await rt.container_status(cid)
    assert st.state == "exited" and st.exit_code == 137  # stopping the sandbox stopped its container

    await rt.remove_sandbox(sb.id)
    await rt.remove_sandbox(sb.id)  # idempotent
    assert [s.id for s in await rt.list_sandboxes()] == [host.id]
    assert await rt.list_containers() == []  # its containers went with it


@sync
async def test_a_sandbox_sharing_one_process_namespace_takes_containers_into_it(rt: Runtime) -> None:
    """shareProcessNamespace: a sandbox made to share one is ready and its containers join it
    (pod_pid); one made without refuses such a container; stopped, it is not ready."""
    shared, apart = await rt.run_sandbox(pod("n1", share_pid=True)), await rt.run_sandbox(pod("n2"))
    assert shared.state == "ready" and shared.config.share_pid and not apart.config.share_pid
    cid = await rt.create_container(
        shared.id, ContainerConfig(name="a", image="busybox", pod_pid=True, command=["sleep", "300"])
    )
    await rt.start_container(cid)
    assert (await rt.container_status(cid)).state == "running"
    with pytest.raises(Exception, match="no process namespace to share"):
        await rt.create_container(apart.id, ContainerConfig(name="b", image="busybox", pod_pid=True))
    await rt.stop_sandbox(shared.id)
    assert {s.id: s.state for s in await rt.list_sandboxes()} == {shared.id: "notready", apart.id: "ready"}
    assert (await rt.container_status(cid)).state == "exited"


@sync
async def test_container_lifecycle_labels_exec_stop_restart_remove(rt: Runtime, tmp_path: Path) -> None:
    sb = await rt.run_sandbox(pod("c1"))
    log = tmp_path / "logs" / "app" / "0.log"  # a kubelet-style path whose directories do not exist yet
    cid = await rt.create_container(
        sb.id,
        ContainerConfig(
            name="app",
            image="busybox",
            command=["sleep", "300"],
            labels={"pod": "p1", "c": "app"},
            log_path=str(log),
        ),
    )
    st = await rt.container_status(cid)
    assert (st.state, st.name, st.sandbox_id, st.labels, st.log_path) == (
        "created",
        "app",
        sb.id,
        {"pod": "p1", "c": "app"},
        str(log),
    )
    assert st.image_id.startswith("sha256:") and st.created_at > 0 and st.exit_code is None

    await rt.start_container(cid)
    st = await rt.container_status(cid)
    assert st.state == "running" and st.pid > 0 and st.started_at >= st.created_at
    other = await rt.create_container(
        sb.id, ContainerConfig(name="other", image="busybox", labels={"pod": "p2"}, command=["sleep", "300"])
    )
    assert [c.id for c in await rt.list_containers({"pod": "p1"})] == [cid]
    assert [c.id for c in await rt.list_containers({"pod": "p1", "c": "app"})] == [cid]
    assert await rt.list_containers({"pod": "p1", "c": "nope"}) == []
    assert {c.id for c in await rt.list_containers()} == {cid, other}

    assert (await rt.exec_sync(cid, ["true"])).exit_code == 0
    assert (await rt.exec_sync(cid, ["false"])).exit_code == 1
    session = await rt.exec(cid, ["cat"], stdin=True)
    await session.write_stdin(b"piped")
    await session.close_stdin()
    out = b"".join([chunk async for n, chunk in session.output() if n == 1])
    assert out == b"piped" and await session.wait() == 0

    await rt.stop_container(cid, 0)
    st = await rt.container_status(cid)
    assert (st.state, st.exit_code, st.reason, st.pid) == ("exited", 137, "Error", 0)
    assert st.finished_at >= st.started_at
    with pytest.raises(Exception, match="not running"):
        await rt.exec_sync(cid, ["true"])
    await rt.stop_container(cid, 0)  # stopping an exited container is a no-op

    await rt.start_container(cid)  # a restart, as the kubelet does after a crash
    assert (await rt.container_status(cid)).state == "running"
    await rt.remove_container(cid)
    assert [c.id for c in await rt.list_containers()] == [other]
    with pytest.raises(Exception, match="no such container"):
        await rt.container_status(cid)
    await rt.remove_container(cid)  # idempotent


@sync
async def test_stops_and_removals_of_one_container_at_once_and_after_it_is_gone_succeed(rt: Runtime) -> None:
    """CRI's StopContainer and RemoveContainer are idempotent: a pod's deletion racing its sync (or a
    second removal) finds the container going or gone, and that is no error."""
    sb = await rt.run_sandbox(pod("r1"))
    cid = await rt.create_container(
        sb.id, ContainerConfig(name="c", image="busybox", command=["sleep", "300"])
    )
    await rt.start_container(cid)

    await asyncio.gather(
        rt.stop_container(cid, 0),
        rt.remove_container(cid),
        rt.stop_container(cid, 0),
        rt.remove_container(cid),
    )
    await rt.stop_container(cid, 0)
    await rt.remove_container(cid)
    assert await rt.list_containers() == []
    with pytest.raises(Exception, match="no such container"):
        await rt.container_status(cid)  # a status is still asked of a container that exists


@sync
async def test_completing_containers_exit_codes_and_cri_logs(rt: Runtime, tmp_path: Path) -> None:
    sb = await rt.run_sandbox(pod("l1"))
    log = tmp_path / "logs" / "echo.log"
    echo = await rt.create_container(
        sb.id,
        ContainerConfig(name="echo", image="busybox", log_path=str(log), command=["echo", "hello", "world"]),
    )
    fail = await rt.create_container(
        sb.id,
        ContainerConfig(
            name="fail", image="busybox", command=["false"], log_path=str(tmp_path / "logs" / "fail.log")
        ),
    )
    for cid in (echo, fail):
        await rt.start_container(cid)
    for cid in (echo, fail):
        await wait_exited(rt, cid)
    st = await rt.container_status(echo)
    assert (st.exit_code, st.reason) == (0, "Completed") and st.finished_at >= st.started_at > 0
    st = await rt.container_status(fail)
    assert (st.exit_code, st.reason) == (1, "Error")
    [line] = log.read_text().splitlines()
    stamp, stream, tag, text = line.split(" ", 3)
    assert (stream, tag, text) == ("stdout", "F", "hello world") and parse_time_ns(stamp.encode())


@sync
async def test_images_and_bad_requests_fail_and_leave_nothing(rt: Runtime) -> None:
    info = await rt.image_status("busybox")
    assert info is not None and info.id.startswith("sha256:") and info.ref == "busybox"
    assert await rt.image_status(MISSING_IMAGE) is None
    with pytest.raises(Exception):  # noqa: B017 - each runtime raises its own type; the point is that it fails
        await rt.pull_image(UNREACHABLE)
    sb = await rt.run_sandbox(pod("b1"))
    with pytest.raises(Exception, match="image not found"):
        await rt.create_container(sb.id, ContainerConfig(name="x", image=MISSING_IMAGE))
    with pytest.raises(Exception, match="no such sandbox"):
        await rt.create_container("no-such-sandbox", ContainerConfig(name="x", image="busybox"))
    assert await rt.list_containers() == []

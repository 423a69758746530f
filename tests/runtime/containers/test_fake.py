"""FakeRuntime (runtime/fake.py): the Runtime Protocol with no kernel objects, for hollow nodes."""

from __future__ import annotations

import asyncio

import pytest

from runtime.fake import FakeRuntime, FakeRuntimeError
from runtime.interface import ContainerConfig, Runtime, SandboxConfig


def _sb(uid: str, host: bool = False) -> SandboxConfig:
    return SandboxConfig(name=f"p-{uid}", namespace="ns", uid=uid, hostname="h", host_network=host)


def test_fake_runtime_lifecycle_and_calls() -> None:
    async def body() -> None:
        rt: Runtime = FakeRuntime()
        fake = rt
        assert isinstance(fake, FakeRuntime)
        sb = await rt.run_sandbox(_sb("u1"))
        host = await rt.run_sandbox(_sb("u2", host=True))
        assert sb.ip and sb.state == "ready" and host.ip == "" and host.netns_path == ""
        cid = await rt.create_container(
            sb.id, ContainerConfig(name="c", image="busybox", labels={"pod": "u1"})
        )
        assert (await rt.container_status(cid)).state == "created"
        await rt.start_container(cid)
        st = await rt.container_status(cid)
        assert st.state == "running" and st.pid > 0 and st.name == "c"
        assert [c.id for c in await rt.list_containers({"pod": "u1"})] == [cid]
        assert await rt.list_containers({"pod": "other"}) == []
        res = await rt.exec_sync(cid, ["true"])
        assert res.exit_code == 0
        await rt.stop_container(cid, 1)
        st = await rt.container_status(cid)
        assert st.state == "exited" and st.exit_code == 137
        with pytest.raises(FakeRuntimeError):
            await rt.exec_sync(cid, ["true"])
        await rt.remove_container(cid)
        await rt.stop_sandbox(sb.id)
        assert next(s for s in await rt.list_sandboxes() if s.id == sb.id).state == "notready"
        await rt.remove_sandbox(sb.id)
        assert [s.id for s in await rt.list_sandboxes()] == [host.id]
        assert ("create_container", "c") in fake.calls and ("remove_sandbox", sb.id) in fake.calls

    asyncio.run(body())


def test_fake_runtime_images_crashes_and_exec_sessions() -> None:
    async def body() -> None:
        rt = FakeRuntime()
        rt.missing_images.add("app:1")
        rt.unpullable.add("bad:1")
        rt.exit_after_start["crash:1"] = 2
        assert await rt.image_status("app:1") is None
        with pytest.raises(FakeRuntimeError):
            await rt.pull_image("bad:1")
        sb = await rt.run_sandbox(_sb("u3"))
        with pytest.raises(FakeRuntimeError, match="image not found"):
            await rt.create_container(sb.id, ContainerConfig(name="a", image="app:1"))
        assert (await rt.pull_image("app:1")).ref == "app:1"
        crash = await rt.create_container(sb.id, ContainerConfig(name="x", image="crash:1"))
        await rt.start_container(crash)
        st = await rt.container_status(crash)
        assert st.state == "exited" and st.exit_code == 2 and st.reason == "Error"
        ok = await rt.create_container(sb.id, ContainerConfig(name="ok", image="app:1"))
        await rt.start_container(ok)
        rt.exit(ok, 137, "OOMKilled")
        assert (await rt.container_status(ok)).reason == "OOMKilled"
        session = await rt.exec(ok, ["cat"], stdin=True)
        await session.write_stdin(b"echo")
        await session.close_stdin()
        got = [chunk async for chunk in session.output()]
        assert got == [(1, b"echo")] and await session.wait() == 0
        with pytest.raises(FakeRuntimeError):
            await rt.create_container("no-such-sandbox", ContainerConfig(name="a", image="app:1"))

    asyncio.run(body())

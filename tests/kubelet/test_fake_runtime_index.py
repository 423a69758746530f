"""The hollow node's FakeRuntime answers label queries from its index exactly as a scan would."""

from __future__ import annotations

import asyncio

from runtime.fake import FakeRuntime
from runtime.interface import ContainerConfig, SandboxConfig


def test_label_queries_match_a_scan_in_creation_order_after_removals() -> None:
    async def body() -> None:
        rt = FakeRuntime()
        sb = await rt.run_sandbox(SandboxConfig(name="p", namespace="ns", uid="u", hostname="h"))
        ids = [
            await rt.create_container(
                sb.id,
                ContainerConfig(name=f"c{i}", image="busybox", labels={"pod": f"u{i % 3}", "n": str(i % 2)}),
            )
            for i in range(20)
        ]
        await rt.remove_container(ids[3])
        await rt.remove_container(ids[6])
        for want in ({"pod": "u0"}, {"pod": "u0", "n": "1"}, {"n": "0"}, {"pod": "none"}, {}):
            scanned = [
                cid
                for cid in ids
                if cid in rt.containers
                and all(rt.containers[cid].info.labels.get(k) == v for k, v in want.items())
            ]
            assert [c.id for c in await rt.list_containers(want)] == scanned
        for cid in ids:
            await rt.remove_container(cid)
        assert await rt.list_containers({"pod": "u1"}) == [] and not rt._by_label

    asyncio.run(body())


def test_what_a_caller_read_stays_as_it_was_read() -> None:
    async def body() -> None:
        rt = FakeRuntime()
        sb = await rt.run_sandbox(SandboxConfig(name="p", namespace="ns", uid="u", hostname="h"))
        cid = await rt.create_container(
            sb.id, ContainerConfig(name="c", image="busybox", labels={"pod": "u"})
        )
        (before,) = await rt.list_containers()
        status_before = await rt.container_status(cid)
        await rt.start_container(cid)
        assert before.state == status_before.state == "created" and before.started_at == 0.0
        (running,) = await rt.list_containers({"pod": "u"})
        assert running.state == "running" and running.started_at > 0
        rt.exit(cid, 3)
        assert running.state == "running"
        (exited,) = await rt.list_containers()
        assert (exited.state, exited.exit_code, exited.reason) == ("exited", 3, "Error")

    asyncio.run(body())

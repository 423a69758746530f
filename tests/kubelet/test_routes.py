"""Routes to the other nodes' pod CIDRs come back after the kernel dropped them with their link
(a link flap changes no Node object), also when the first rewrites fail while the link is down."""

from __future__ import annotations

import asyncio
from typing import Any

from api.informer import InformerFactory
from kubelet.routes import RouteManager
from runtime.network import FakeNetwork, NetworkError
from tests.controller.fakeapi import FakeApi
from tests.polling import until

WANT = {"10.244.1.0/24": "10.0.0.2"}


def node(name: str, cidr: str, ip: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"podCIDR": cidr},
        "status": {"addresses": [{"type": "InternalIP", "address": ip}]},
    }


class FlappingLink(FakeNetwork):
    """A route table whose link can go down: the kernel then drops its routes and refuses new ones."""

    def __init__(self) -> None:
        super().__init__("10.244.0.0/24")
        self.down = False
        self.refused = 0

    def add_route(self, cidr: str, via: str) -> None:
        if self.down:
            self.refused += 1
            raise NetworkError(f"cannot add route {cidr} via {via}: Network is unreachable")
        super().add_route(cidr, via)

    def cut(self) -> None:
        self.down = True
        self.routes.clear()


async def started(table: FakeNetwork) -> tuple[FakeApi, InformerFactory, RouteManager, asyncio.Task[None]]:
    api = FakeApi()
    await api.create("nodes", node("a", "10.244.0.0/24", "10.0.0.1"))
    await api.create("nodes", node("b", "10.244.1.0/24", "10.0.0.2"))
    factory = InformerFactory(api)
    manager = RouteManager(factory, table, "a", resync=0.05)
    factory.start()
    task = asyncio.create_task(manager.run())
    await until(lambda: table.routes == WANT)
    return api, factory, manager, task


async def stopped(factory: InformerFactory, task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await factory.stop()


def test_a_route_the_kernel_dropped_is_written_again_with_no_node_change() -> None:
    async def go() -> None:
        table = FakeNetwork("10.244.0.0/24")
        api, factory, manager, task = await started(table)
        table.routes.clear()  # what `ip link set eth0 down; ... up` leaves: only the connected route
        await until(lambda: table.routes == WANT)
        assert manager.resyncs >= 1 and manager.installed == WANT
        assert not any(call[0] == "remove_route" for call in table.calls)
        await api.delete("nodes", "b")  # a node that goes is still removed at once
        await until(lambda: table.routes == {} and manager.installed == {})
        await stopped(factory, task)

    asyncio.run(go())


def test_routes_come_back_once_the_link_is_up_again() -> None:
    async def go() -> None:
        table = FlappingLink()
        _api, factory, _manager, task = await started(table)
        table.cut()
        await until(lambda: table.refused >= 2)  # rewrites keep being tried while the link is down
        assert table.routes == {}
        table.down = False
        await until(lambda: table.routes == WANT)
        await stopped(factory, task)

    asyncio.run(go())

"""Node IPAM's pure choice: the first /24 of the cluster CIDR that overlaps nothing in use."""

from __future__ import annotations

import asyncio

import pytest

from api.events import EventRecorder
from api.informer import InformerFactory
from controller.ipam import NodeIpamController, next_free
from tests.controller.fakeapi import FakeApi
from tests.polling import until


def test_first_subnet_clear_of_every_used_cidr() -> None:
    assert next_free("10.244.0.0/16", 24, set()) == "10.244.0.0/24"
    assert next_free("10.244.0.0/16", 24, {"10.244.0.0/24", "10.244.2.0/24"}) == "10.244.1.0/24"
    # a wider used range blocks every /24 inside it; a smaller one blocks the /24 around it
    assert next_free("10.244.0.0/16", 24, {"10.244.0.0/23", "10.244.2.128/25"}) == "10.244.3.0/24"
    # other families and ranges outside the cluster CIDR block nothing
    assert next_free("10.244.0.0/16", 24, {"fd00::/64", "10.0.0.0/24"}) == "10.244.0.0/24"
    assert next_free("10.244.0.0/22", 24, {f"10.244.{i}.0/24" for i in range(4)}) is None
    assert next_free("10.244.0.0/16", 24, {"10.0.0.0/8"}) is None
    assert next_free("fd00::/112", 120, {"fd00::/120"}) == "fd00::100/120"
    with pytest.raises(ValueError):
        next_free("10.244.0.0/24", 16, set())


def test_hundreds_of_nodes_cost_one_pass() -> None:
    used = {f"10.244.{i}.0/24" for i in range(256)} | {f"10.245.{i}.0/24" for i in range(245)}
    assert next_free("10.244.0.0/15", 24, used) == "10.245.245.0/24"


@pytest.mark.anyio
async def test_a_full_cluster_cidr_is_not_retried_per_heartbeat_until_a_node_goes() -> None:
    api = FakeApi()
    f = InformerFactory(api)
    ev = EventRecorder(api, "cidrAllocator")
    ctl = NodeIpamController(api, f.informer("nodes"), ev, cluster_cidr="10.244.0.0/23", mask=24)
    f.start()
    tasks = [asyncio.create_task(ctl.run()), asyncio.create_task(ev.run())]
    syncs: list[str] = []
    real_sync = ctl.sync

    async def counted(key: str) -> None:
        syncs.append(key)
        await real_sync(key)

    ctl.sync = counted  # type: ignore[method-assign]
    try:
        for n in ("a", "b", "c"):
            await api.create("nodes", {"metadata": {"name": n}, "spec": {}})
        await until(lambda: sum(1 for n in api.objs("nodes") if n["spec"].get("podCIDR")) == 2)
        await until(lambda: "c" in syncs and ctl._full)
        left = next(n["metadata"]["name"] for n in api.objs("nodes") if not n["spec"].get("podCIDR"))
        before = syncs.count(left)
        for i in range(5):  # heartbeats of the node left without a CIDR
            await api.patch("nodes", left, {"status": {"heartbeat": str(i)}})
        await until(lambda: api.objects[("nodes", "", left)]["status"]["heartbeat"] == "4")
        await until(lambda: not ctl.queue._processing and len(ctl.queue) == 0)
        assert syncs.count(left) == before
        taken = next(n["metadata"]["name"] for n in api.objs("nodes") if n["spec"].get("podCIDR"))
        await api.delete("nodes", taken)
        await until(lambda: bool(api.objects[("nodes", "", left)]["spec"].get("podCIDR")))
    finally:
        for t in tasks:
            t.cancel()
        await f.stop()

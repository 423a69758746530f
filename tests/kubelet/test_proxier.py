"""The proxy loop rebuilds the table from services + EndpointSlices and follows their changes."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from api.informer import InformerFactory
from kubelet.proxy.proxier import Proxier
from tests.controller.cluster import eventually
from tests.controller.fakeapi import FakeApi
from tests.objects import endpoint_slice, service
from tests.polling import until


def _web_service(*ports: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """The `web` Service these tests proxy: cluster IP 10.96.0.20, TCP port 80 unless `ports`."""
    svc = service("web", *(ports or ({"port": 80, "protocol": "TCP"},)), clusterIP="10.96.0.20", **spec)
    svc["metadata"]["namespace"] = "default"
    return svc


def test_proxier_follows_endpoints():
    async def go():
        api = FakeApi()
        await api.create("services", _web_service())
        applied: list[str] = []
        removed = []
        factory = InformerFactory(api)
        proxier = Proxier(
            factory, apply=applied.append, remove=lambda: removed.append(True), min_interval=0.01
        )
        factory.start()
        task = asyncio.create_task(proxier.run())
        await until(lambda: applied and "reject" in applied[-1])  # no endpoints yet: rejected
        await api.create("endpointslices", endpoint_slice("web", "10.244.0.7", port_name="", name="web-abc"))
        await until(lambda: "dnat to 10.244.0.7:8080" in applied[-1])
        count, rebuilds = proxier.applies, proxier.rebuilds
        proxier._mark()  # nothing changed: a rebuild, but no new transaction
        await until(lambda: proxier.rebuilds > rebuilds)
        assert proxier.applies == count
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await factory.stop()
        proxier.stop()
        assert removed == [True]

    asyncio.run(go())


def test_routes_follow_other_nodes():
    from kubelet.routes import RouteManager, desired_routes
    from runtime.network import FakeNetwork

    def node(name, cidr, ip):
        return {
            "metadata": {"name": name},
            "spec": {"podCIDR": cidr} if cidr else {},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}]},
        }

    assert desired_routes(
        [
            node("a", "10.244.0.0/24", "10.0.0.1"),
            node("b", "10.244.1.0/24", "10.0.0.2"),
            node("c", "", "10.0.0.3"),
        ],
        "a",
    ) == {"10.244.1.0/24": "10.0.0.2"}

    async def go():
        api = FakeApi()
        await api.create("nodes", node("a", "10.244.0.0/24", "10.0.0.1"))
        await api.create("nodes", node("b", "10.244.1.0/24", "10.0.0.2"))
        net = FakeNetwork("10.244.0.0/24")
        factory = InformerFactory(api)
        rm = RouteManager(factory, net, "a")
        factory.start()
        task = asyncio.create_task(rm.run())
        await until(lambda: rm.installed == {"10.244.1.0/24": "10.0.0.2"})
        await api.delete("nodes", "b")
        await until(lambda: rm.installed == {})
        assert ("remove_route", ("10.244.1.0/24",)) in net.calls
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await factory.stop()

    asyncio.run(go())


def test_proxier_carries_affinity_over_a_rebuild():
    """A rebuild replaces the table: what its affinity sets held is read first and put back."""

    async def go():
        api = FakeApi()
        await api.create("services", _web_service(sessionAffinity="ClientIP"))
        await api.create("endpointslices", endpoint_slice("web", "10.244.0.7", port_name="", name="web-abc"))
        applied: list[str] = []
        reads: list[bool] = []

        def sticky():
            reads.append(True)
            return {"aff_0123456789abcdef": {"10.0.0.9": 99}}

        factory = InformerFactory(api)
        proxier = Proxier(
            factory, apply=applied.append, remove=lambda: None, min_interval=0.01, sticky=sticky
        )
        factory.start()
        task = asyncio.create_task(proxier.run())
        await until(lambda: applied and "update @aff_" in applied[-1])
        assert reads  # read before the replacement
        aff = applied[-1].split("update @")[1].split(" ")[0]
        reads.clear()
        # the same set name comes back with what it held (the fake holds it under another name)
        proxier._sticky = lambda: {aff: {"10.0.0.9": 99}}
        await api.create("endpointslices", endpoint_slice("web", "10.244.0.8", port_name="", name="web-def"))
        await until(lambda: "10.244.0.8" in applied[-1])
        assert "elements = { 10.0.0.9 expires 99s }" in applied[-1]
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await factory.stop()

    asyncio.run(go())


def test_proxier_answers_health_checks():
    """A LoadBalancer with externalTrafficPolicy Local: 200 while this node has a ready endpoint,
    503 while it has none, and the port closes when the service goes."""
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"

    async def get() -> httpx.Response | None:
        try:
            async with httpx.AsyncClient() as c:
                return await c.get(url)
        except httpx.TransportError:
            return None

    async def go():
        api = FakeApi()
        lb = {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "healthCheckNodePort": port}
        await api.create("services", _web_service({"port": 80, "protocol": "TCP", "nodePort": 30080}, **lb))
        factory = InformerFactory(api)
        proxier = Proxier(
            factory, "n1", apply=lambda body: None, remove=lambda: None, min_interval=0.01,
            health_address="127.0.0.1",
        )  # fmt: skip
        factory.start()
        task = asyncio.create_task(proxier.run())

        def answers(status: int) -> Callable[[], Awaitable[httpx.Response | None]]:
            async def asked() -> httpx.Response | None:  # asked again and again, as a load balancer does
                r = await get()
                return r if r is not None and r.status_code == status else None

            return asked

        r = await eventually(answers(503), what="503 while no endpoint is here")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-type"] == "application/json"
        assert r.json() == {
            "service": {"namespace": "default", "name": "web"},
            "localEndpoints": 0,
            "serviceProxyHealthy": True,
        }
        elsewhere = endpoint_slice("web", "10.244.1.7", port_name="", name="web-a")
        elsewhere["endpoints"][0]["nodeName"] = "n2"
        await api.create("endpointslices", elsewhere)
        here = endpoint_slice("web", "10.244.0.7", "10.244.0.8", port_name="", name="web-b")
        for ep in here["endpoints"]:
            ep["nodeName"] = "n1"
        await api.create("endpointslices", here)
        assert (await eventually(answers(200), what="200 with local endpoints")).json()["localEndpoints"] == 2
        await api.delete("endpointslices", "web-b", "default")
        await eventually(answers(503), what="503 again")  # only another node's endpoint is left
        await api.delete("services", "web", "default")

        async def closed() -> bool:
            return await get() is None

        await eventually(closed, what="the health check port closed")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await factory.stop()

    asyncio.run(go())

"""The proxy loop rebuilds the table from services + endpoints and follows their changes."""

import asyncio

from api.informer import InformerFactory
from kubelet.proxy.proxier import Proxier
from tests.controller.fakeapi import FakeApi


async def _until(cond, timeout=3.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_proxier_follows_endpoints():
    async def go():
        api = FakeApi()
        await api.create("services", {"metadata": {"name": "web", "namespace": "default"},
                                      "spec": {"clusterIP": "10.96.0.20", "ports": [{"port": 80, "protocol": "TCP"}]}})
        applied: list[str] = []
        removed = []
        factory = InformerFactory(api)
        proxier = Proxier(factory, apply=applied.append, remove=lambda: removed.append(True), min_interval=0.01)
        factory.start()
        task = asyncio.create_task(proxier.run())
        await _until(lambda: applied and "reject" in applied[-1])  # no endpoints yet: rejected
        await api.create("endpoints", {"metadata": {"name": "web", "namespace": "default"},
                                       "subsets": [{"addresses": [{"ip": "10.244.0.7"}],
                                                    "ports": [{"port": 8080, "protocol": "TCP"}]}]})
        await _until(lambda: "dnat to 10.244.0.7:8080" in applied[-1])
        count = proxier.applies
        proxier._mark()  # nothing changed: no new transaction
        await asyncio.sleep(0.05)
        assert proxier.applies == count
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await factory.stop()
        proxier.stop()
        assert removed == [True]

    asyncio.run(go())

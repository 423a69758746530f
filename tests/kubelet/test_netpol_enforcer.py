"""The policy loop: no table without an isolated pod here, and the table follows policies, labels
and addresses (against a fake API; the real nft and real traffic are in tests/e2e/test_networkpolicy.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from api.informer import InformerFactory
from kubelet.netpol.enforcer import PolicyEnforcer
from tests.controller.fakeapi import FakeApi
from tests.polling import until


def pod(name: str, ip: str, node: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "c"}]},
        "status": {"podIP": ip, "phase": "Running"},
    }


def test_enforcer_follows_policies_labels_and_pods() -> None:
    async def go() -> None:
        api = FakeApi()
        await api.create("namespaces", {"metadata": {"name": "default", "labels": {}}})
        await api.create("pods", pod("web", "10.42.0.2", "n1", {"app": "web"}))
        await api.create("pods", pod("client", "10.42.1.3", "n2", {}))
        applied: list[str] = []
        factory = InformerFactory(api)
        enforcer = PolicyEnforcer(factory, "n1", apply=applied.append, min_interval=0.01)
        factory.start()
        task = asyncio.create_task(enforcer.run())
        await until(lambda: applied == [""])  # no policy: the table is deleted (none kept)
        await api.create(
            "networkpolicies",
            {
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {
                    "podSelector": {"matchLabels": {"app": "web"}},
                    "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}]}],
                },
            },
        )
        await until(lambda: len(applied) == 2)
        assert "ip daddr vmap { 10.42.0.2 : jump in_0 }" in applied[-1]
        assert "10.42.1.3" not in applied[-1]  # the client is no client yet
        client = await api.get("pods", "client", "default")
        client["metadata"]["labels"] = {"role": "client"}
        await api.update("pods", client)
        await until(
            lambda: "ip saddr @peers_0 accept" in applied[-1] and "elements = { 10.42.1.3 }" in applied[-1]
        )
        # a status change that is neither address nor phase (most pod updates) rebuilds nothing
        await until(lambda: not enforcer._dirty.is_set())
        rebuilds = enforcer.rebuilds
        client = await api.get("pods", "client", "default")
        client["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
        await api.update("pods", client)
        await until(
            lambda: ((enforcer.pods.get("default/client") or {}).get("status") or {}).get("conditions")
        )
        assert not enforcer._dirty.is_set() and enforcer.rebuilds == rebuilds
        await api.delete("networkpolicies", "web", "default")
        await until(lambda: applied[-1] == "")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await factory.stop()
        enforcer.stop()
        assert applied[-1] == ""

    asyncio.run(go())

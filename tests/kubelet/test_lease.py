"""The node's lease heartbeat writes the lease it last wrote (one PUT a renewal, as kubelet's
lease controller does), and falls back to a GET only when that write is refused."""

from __future__ import annotations

import pytest

from kubelet.node import LEASE_NAMESPACE, NodeAgent, node_object, read_machine
from tests.controller.fakeapi import FakeApi

NODE = "n1"
pytestmark = pytest.mark.anyio


def _agent(api: FakeApi) -> NodeAgent:
    return NodeAgent(api, node_object(NODE, "192.0.2.10", read_machine(), "fake://1", 10250))


def _lease_calls(api: FakeApi) -> list[str]:
    return [verb for verb, plural, _ in api.calls if plural == "leases"]


async def test_renewals_put_the_lease_last_written_without_a_get() -> None:
    api = FakeApi()
    agent = _agent(api)
    await agent.renew_lease()  # none yet: look, then create
    first = api.objects[("leases", LEASE_NAMESPACE, NODE)]["spec"]["renewTime"]
    api.calls.clear()
    for _ in range(3):
        await agent.renew_lease()
    assert _lease_calls(api) == ["update", "update", "update"]
    lease = api.objects[("leases", LEASE_NAMESPACE, NODE)]
    assert lease["spec"]["holderIdentity"] == NODE
    assert lease["spec"]["renewTime"] >= first


async def test_a_refused_renewal_reads_the_lease_again() -> None:
    api = FakeApi()
    agent = _agent(api)
    await agent.renew_lease()
    # someone else wrote the lease meanwhile: our copy's resourceVersion is stale (409)
    other = api.objects[("leases", LEASE_NAMESPACE, NODE)]
    await api.update(
        "leases", dict(other, metadata=dict(other["metadata"], labels={"x": "y"})), LEASE_NAMESPACE
    )
    api.calls.clear()
    await agent.renew_lease()
    assert _lease_calls(api) == ["update", "get", "update"]
    await agent.renew_lease()  # and the written one is held again
    assert _lease_calls(api) == ["update", "get", "update", "update"]
    assert api.objects[("leases", LEASE_NAMESPACE, NODE)]["metadata"]["labels"] == {"x": "y"}

"""Leader election on a Lease against the fake API: one leader, renewals, failover."""

from __future__ import annotations

import asyncio

import pytest

from api.leaderelection import LeaderElectionConfig, LeaderElector, may_take, next_spec
from tests.controller.fakeapi import FakeApi

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_may_take_decisions() -> None:
    assert may_take({}, "a", 0, 15)
    assert may_take({"holderIdentity": "a"}, "a", 0, 15)
    assert not may_take({"holderIdentity": "b", "leaseDurationSeconds": 15}, "a", 14.9, 15)
    assert may_take({"holderIdentity": "b", "leaseDurationSeconds": 15}, "a", 15, 15)


def test_next_spec_counts_transitions() -> None:
    s = next_spec({}, "a", 15, "t0")
    assert s["holderIdentity"] == "a" and s["leaseTransitions"] == 0 and s["acquireTime"] == "t0"
    s2 = next_spec(s, "a", 15, "t1")
    assert s2["acquireTime"] == "t0" and s2["renewTime"] == "t1"
    s3 = next_spec(s2, "b", 15, "t2")
    assert s3["leaseTransitions"] == 1 and s3["holderIdentity"] == "b"


async def test_one_leader_then_failover() -> None:
    api = FakeApi()
    cfg = dict(name="cm", lease_duration=0.3, renew_deadline=0.2, retry_period=0.05)
    leading: list[str] = []
    stop_a = asyncio.Event()

    def lead(who: str, until: asyncio.Event | None = None):  # type: ignore[no-untyped-def]
        async def body() -> None:
            leading.append(who)
            await (until.wait() if until else asyncio.Event().wait())
        return body

    a = LeaderElector(api, LeaderElectionConfig(identity="a", **cfg))  # type: ignore[arg-type]
    b = LeaderElector(api, LeaderElectionConfig(identity="b", **cfg))  # type: ignore[arg-type]
    ta = asyncio.create_task(a.run(lead("a", stop_a)))
    await asyncio.sleep(0.05)
    tb = asyncio.create_task(b.run(lead("b")))
    await asyncio.sleep(0.3)
    assert leading == ["a"]
    assert api.objs("leases")[0]["spec"]["holderIdentity"] == "a"
    ta.cancel()  # a dies without releasing: b takes over after the lease duration
    await asyncio.wait_for(_until(lambda: leading == ["a", "b"]), 3)
    assert api.objs("leases")[0]["spec"]["leaseTransitions"] == 1
    tb.cancel()
    await asyncio.gather(ta, tb, return_exceptions=True)


async def _until(cond) -> None:  # type: ignore[no-untyped-def]
    while not cond():
        await asyncio.sleep(0.01)

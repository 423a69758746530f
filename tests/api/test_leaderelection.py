"""Leader election on a Lease against the fake API: one leader, renewals, failover."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from api.leaderelection import LeaderElectionConfig, LeaderElector, may_take, next_spec
from tests.controller.fakeapi import FakeApi
from tests.polling import until

pytestmark = pytest.mark.anyio


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

    def lead(who: str, until: asyncio.Event | None = None) -> Callable[[], Coroutine[Any, Any, None]]:
        async def body() -> None:
            leading.append(who)
            await (until.wait() if until else asyncio.Event().wait())

        return body

    a_api = Severable(api)
    a = LeaderElector(a_api, LeaderElectionConfig(identity="a", **cfg))  # type: ignore[arg-type]
    b = LeaderElector(api, LeaderElectionConfig(identity="b", **cfg))  # type: ignore[arg-type]
    ta = asyncio.create_task(a.run(lead("a", stop_a)))
    await asyncio.wait_for(until(lambda: leading == ["a"]), 3)  # a leads before b starts
    tb = asyncio.create_task(b.run(lead("b")))
    await asyncio.sleep(0.3)
    assert leading == ["a"]
    assert api.objs("leases")[0]["spec"]["holderIdentity"] == "a"
    a_api.cut = True  # a is cut off (cannot renew, cannot release): b waits out the lease
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await asyncio.wait_for(until(lambda: leading == ["a", "b"]), 3)
    assert loop.time() - t0 >= 0.25
    assert api.objs("leases")[0]["spec"]["leaseTransitions"] == 1
    await asyncio.wait_for(until(lambda: ta.done()), 3)  # a stepped down after its renew deadline
    # a graceful stop hands the lease back at once
    tb.cancel()
    await asyncio.gather(ta, tb, return_exceptions=True)
    assert not api.objs("leases")[0]["spec"].get("holderIdentity")


class Severable:
    """A client that can be cut off, as a crashed or partitioned process is."""

    def __init__(self, api: FakeApi) -> None:
        self.api = api
        self.cut = False

    def __getattr__(self, name: str) -> Any:
        if self.cut:
            raise ConnectionError("cut off")
        return getattr(self.api, name)

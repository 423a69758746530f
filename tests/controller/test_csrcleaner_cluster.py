"""The CSR cleaner against a real `kubelite server`: requests decided through the API are deleted
by their age, on a FakeClock moved hours ahead instead of waiting for them; and the controller
manager runs it by default, its first pass at start."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from api.jsonutil import format_time
from controller.clock import FakeClock
from controller.csrcleaner import CsrCleaner
from tests.apiserver.test_csr import csr_body, make_request
from tests.controller.cluster import Cluster, eventually, get_or_none
from tests.polling import until

pytestmark = pytest.mark.anyio
CSRS = "certificatesigningrequests"
Obj = dict[str, Any]


class CountingCleaner(CsrCleaner):
    """The cleaner, counting finished passes: a test waits for a whole pass, not for a while."""

    passes = 0

    async def clean(self) -> None:
        await super().clean()
        self.passes += 1


async def make(cluster: Cluster, name: str) -> Obj:
    pem, _ = make_request(name)
    return dict(await cluster.client.create(CSRS, csr_body(name, pem, signer="example.com/manual")))


async def deny(cluster: Cluster, csr: Obj, updated: dt.datetime | None = None) -> None:
    condition: Obj = {"type": "Denied", "status": "True", "reason": "Test"}
    if updated is not None:  # the server keeps a time the client gives, as kube's does
        condition["lastUpdateTime"] = format_time(updated)
    await cluster.client.update(CSRS, dict(csr, status={"conditions": [condition]}), subresource="approval")


async def after_a_pass(cleaner: CountingCleaner) -> None:
    """Return once a pass that began after this call has finished."""
    seen = cleaner.passes
    await until(lambda: cleaner.passes >= seen + 2, timeout=30.0, what="a whole cleaner pass")


async def test_an_old_denied_request_goes_and_a_fresh_pending_one_stays(cluster: Cluster) -> None:
    await deny(cluster, await make(cluster, "old-denied"))
    await make(cluster, "fresh-pending")
    # two hours on: the denial is past its hour, the pending request far from its day
    clock = FakeClock(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))
    client = cluster.client
    cleaner = cluster.run_controller(
        "csrcleaner", lambda f, _events: CountingCleaner(client, f.informer(CSRS), period=0.05, clock=clock)
    )
    # the first pass runs once the cache has synced, and the cache already holds both requests
    await until(lambda: cleaner.passes >= 1, timeout=30.0, what="the cleaner's first pass")
    assert await get_or_none(client, CSRS, "old-denied") is None
    assert await get_or_none(client, CSRS, "fresh-pending") is not None
    # a day on, the pending request is past its day too
    clock.advance(23 * 3600)
    await after_a_pass(cleaner)
    assert await get_or_none(client, CSRS, "fresh-pending") is None


async def test_the_controller_manager_runs_it_at_start(cluster: Cluster) -> None:
    now = dt.datetime.now(dt.UTC)
    await deny(cluster, await make(cluster, "denied-2h-ago"), updated=now - dt.timedelta(hours=2))
    await deny(cluster, await make(cluster, "denied-now"))
    cluster.start_controllers(controllers=("csrcleaner",))
    client = cluster.client

    async def deleted() -> bool:
        return await get_or_none(client, CSRS, "denied-2h-ago") is None

    await eventually(deleted, timeout=30.0, what="the request denied 2h ago deleted")
    assert await get_or_none(client, CSRS, "denied-now") is not None

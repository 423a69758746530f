"""Ownership against a real server: orphaning, releasing, foreground deletion, same-name recreate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.controller.cluster import Cluster, active, eventually, get_or_none
from tests.objects import rc_body

pytestmark = pytest.mark.anyio


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    c = await Cluster().start()
    c.start_controllers()
    try:
        yield c
    finally:
        await c.close()


def owners(pod: dict) -> list[str]:
    return [r["uid"] for r in pod["metadata"].get("ownerReferences") or []]


async def test_selector_change_releases_and_orphan_delete_keeps_pods(cluster: Cluster) -> None:
    rc = await cluster.client.create("replicationcontrollers", rc_body("app", 3), "default")
    uid = rc["metadata"]["uid"]
    first = await eventually(lambda: _n_owned(cluster, uid, 3), what="3 pods")
    # new selector and template: the old pods no longer match and are released
    await cluster.client.patch(
        "replicationcontrollers",
        "app",
        {
            "spec": {
                "selector": {"app": "app", "v": "2"},
                "template": {"metadata": {"labels": {"app": "app", "v": "2"}}},
            }
        },
        namespace="default",
    )
    await eventually(lambda: _n_owned(cluster, uid, 3, label=("v", "2")), what="3 new pods")

    async def released() -> bool:
        pods = {p["metadata"]["name"]: p for p in await cluster.pods()}
        return all(not owners(pods[p["metadata"]["name"]]) for p in first if p["metadata"]["name"] in pods)

    await eventually(released, what="old pods released")
    # delete with orphan: the pods stay and lose their ownerReference
    await cluster.client.delete("replicationcontrollers", "app", "default", propagation_policy="Orphan")

    async def orphaned() -> bool:
        if await get_or_none(cluster.client, "replicationcontrollers", "app", "default") is not None:
            return False
        pods = active(await cluster.pods())
        return len(pods) == 6 and all(not owners(p) for p in pods)

    await eventually(orphaned, what="rc gone, 6 orphaned pods kept")


async def test_foreground_deletion_waits_for_dependents(cluster: Cluster) -> None:
    rc = await cluster.client.create("replicationcontrollers", rc_body("fg", 2), "default")
    uid = rc["metadata"]["uid"]
    await eventually(lambda: _n_owned(cluster, uid, 2), what="2 pods")
    await cluster.client.delete("replicationcontrollers", "fg", "default", propagation_policy="Foreground")

    async def rc_gone_last() -> bool:
        if await get_or_none(cluster.client, "replicationcontrollers", "fg", "default") is not None:
            return False
        return not await cluster.pods(owner_uid=uid)

    await eventually(rc_gone_last, what="pods then rc gone")


async def test_recreated_rc_never_adopts_pods_of_the_old_uid(cluster: Cluster) -> None:
    old = await cluster.client.create("replicationcontrollers", rc_body("same", 3), "default")
    await eventually(lambda: _n_owned(cluster, old["metadata"]["uid"], 3), what="3 old pods")
    await cluster.client.delete("replicationcontrollers", "same", "default")
    new = await cluster.client.create("replicationcontrollers", rc_body("same", 3), "default")
    new_uid = new["metadata"]["uid"]
    await eventually(lambda: _n_owned(cluster, new_uid, 3), what="3 new pods")

    async def settled() -> bool:
        pods = active(await cluster.pods())
        return len(pods) == 3 and all(owners(p) == [new_uid] for p in pods)

    await eventually(settled, what="only the new rc's own pods left")
    for _ in range(5):  # and it stays so: never more than 3, never an adopted old pod
        pods = active(await cluster.pods())
        assert len(pods) == 3 and all(owners(p) == [new_uid] for p in pods)
        await asyncio.sleep(0.05)


async def _n_owned(cluster: Cluster, uid: str, n: int, label: tuple[str, str] | None = None) -> list | None:
    pods = [
        p
        for p in active(await cluster.pods(owner_uid=uid))
        if label is None or p["metadata"]["labels"].get(label[0]) == label[1]
    ]
    return pods if len(pods) == n else None

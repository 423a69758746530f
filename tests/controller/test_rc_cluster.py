"""Replication, scheduling and garbage collection against a real `kubelite server`."""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import pytest

from tests.controller.cluster import Cluster, active, eventually
from tests.objects import rc_body

pytestmark = pytest.mark.anyio


async def test_rc_spreads_scales_replaces_and_deletes(cluster: Cluster) -> None:
    for i in range(3):
        await cluster.add_node(f"node-{i}")
    cluster.play_kubelets()
    cluster.start_controllers()
    cluster.start_scheduler()
    rc = await cluster.client.create("replicationcontrollers", rc_body("web", 5), "default")
    uid = rc["metadata"]["uid"]

    async def bound(n: int) -> list[dict[str, Any]] | None:
        pods = active(await cluster.pods(owner_uid=uid))
        ok = len(pods) == n and all(p["spec"].get("nodeName") for p in pods)
        return pods if ok else None

    pods = await eventually(lambda: bound(5), what="5 bound pods")
    per_node = collections.Counter(p["spec"]["nodeName"] for p in pods)
    assert len(per_node) == 3 and max(per_node.values()) <= 2, per_node
    assert all(p["metadata"]["name"].startswith("web-") for p in pods)
    assert all(p["metadata"]["ownerReferences"][0]["controller"] is True for p in pods)

    async def status(n: int) -> bool:
        st = (await cluster.client.get("replicationcontrollers", "web", "default")).get("status") or {}
        return (
            st.get("replicas") == n and st.get("readyReplicas") == n and st.get("observedGeneration", 0) >= 1
        )

    await eventually(lambda: status(5), what="status 5 ready")

    await cluster.client.patch(
        "replicationcontrollers", "web", {"spec": {"replicas": 2}}, namespace="default"
    )
    await eventually(lambda: bound(2), what="scaled to 2")
    await cluster.client.patch(
        "replicationcontrollers", "web", {"spec": {"replicas": 8}}, namespace="default"
    )
    pods = await eventually(lambda: bound(8), what="scaled to 8")
    await eventually(lambda: status(8), what="status 8 ready")

    victim = pods[0]["metadata"]["name"]
    await cluster.client.delete("pods", victim, "default")
    pods = await eventually(lambda: bound(8), what="deleted pod replaced")
    assert victim not in {p["metadata"]["name"] for p in pods}

    events = (await cluster.client.list("events", "default"))["items"]
    reasons = {e["reason"] for e in events}
    assert {"SuccessfulCreate", "SuccessfulDelete", "Scheduled"} <= reasons

    await cluster.client.delete("replicationcontrollers", "web", "default")

    async def gone() -> bool:
        return not active(await cluster.pods(owner_uid=uid))

    await eventually(gone, what="pods of the deleted RC gone")


async def test_unschedulable_pods_wait_for_a_fitting_node(cluster: Cluster) -> None:
    await cluster.add_node("small", cpu="1")
    cluster.play_kubelets()
    cluster.start_scheduler()
    big = {
        "metadata": {"name": "big"},
        "spec": {
            "containers": [{"name": "c", "image": "busybox:1", "resources": {"requests": {"cpu": "2"}}}]
        },
    }
    picky = {
        "metadata": {"name": "picky"},
        "spec": {"nodeSelector": {"disk": "ssd"}, "containers": [{"name": "c", "image": "busybox:1"}]},
    }
    await cluster.client.create("pods", big, "default")
    await cluster.client.create("pods", picky, "default")

    async def failed(name: str, message: str) -> bool:
        evs = (await cluster.client.list("events", "default", field_selector=f"involvedObject.name={name}"))[
            "items"
        ]
        return any(e["reason"] == "FailedScheduling" and e["message"] == message for e in evs)

    # kube's words, preemption's verdict appended: neither failure is one removing pods could mend
    hopeless = " preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    await eventually(
        lambda: failed("big", "0/1 nodes are available: 1 Insufficient cpu." + hopeless), what="big failed"
    )
    await eventually(
        lambda: failed(
            "picky",
            "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector." + hopeless,
        ),
        what="picky failed",
    )
    pod = await cluster.client.get("pods", "big", "default")
    cond = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert cond["status"] == "False" and cond["reason"] == "Unschedulable"

    await cluster.add_node("large", cpu="8", labels={"disk": "ssd"})

    async def placed() -> bool:
        pods = {p["metadata"]["name"]: p["spec"].get("nodeName") for p in await cluster.pods()}
        return pods == {"big": "large", "picky": "large"}

    await eventually(placed, what="both placed on the large node")
    await asyncio.sleep(0)


async def test_a_burst_never_overcommits_a_node(cluster: Cluster) -> None:
    for i in range(3):
        await cluster.add_node(f"slot-{i}", pods="10", cpu="2")
    cluster.start_controllers()
    cluster.start_scheduler()
    await cluster.client.create("replicationcontrollers", rc_body("burst", 40, cpu="100m"), "default")

    async def settled() -> list[dict[str, Any]] | None:
        pods = active(await cluster.pods())
        bound = [p for p in pods if p["spec"].get("nodeName")]
        return bound if len(pods) == 40 and len(bound) == 30 else None

    bound = await eventually(settled, what="30 of 40 bound")
    assert sorted(collections.Counter(p["spec"]["nodeName"] for p in bound).values()) == [10, 10, 10]

    async def told() -> bool:
        evs = (await cluster.client.list("events", "default", field_selector="reason=FailedScheduling"))[
            "items"
        ]
        return any(
            e["message"] == "0/3 nodes are available: 3 Too many pods. "
            "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
            for e in evs
        )

    await eventually(told, what="FailedScheduling for the 10 left over")
    assert len([p for p in active(await cluster.pods()) if p["spec"].get("nodeName")]) == 30

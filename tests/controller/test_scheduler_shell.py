"""The scheduler's shell against the fake API: concurrent binds never over-commit a node."""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import pytest

from api.events import EventRecorder
from api.informer import InformerFactory
from controller.scheduler.scheduler import Scheduler
from tests.controller.fakeapi import FakeApi
from tests.polling import until

pytestmark = pytest.mark.anyio


def node(name: str, cpu: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {},
        "status": {
            "allocatable": {"cpu": cpu, "memory": "1Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def pod(name: str, cpu: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]},
    }


async def test_no_overcommit_failed_scheduling_then_fit() -> None:
    api = FakeApi()
    api.latency = 0.002  # binds overlap
    for i in range(3):
        await api.create("nodes", node(f"n{i}", "1"))
    f = InformerFactory(api)
    ev = EventRecorder(api, "default-scheduler")
    s = Scheduler(api, f, ev, initial_backoff=0.05, max_backoff=0.2)
    f.start()
    tasks = [asyncio.create_task(s.run()), asyncio.create_task(ev.run())]
    for i in range(12):  # 3 nodes x 1 cpu hold 6 pods of 500m
        await api.create("pods", pod(f"p{i}", "500m"))
    await api.create("pods", pod("big", "2"))
    await until(lambda: s.bound == 6 and len(s.unschedulable) + len(s.queue) >= 1)
    per_node = collections.Counter(
        p["spec"].get("nodeName") for p in api.objs("pods") if p["spec"].get("nodeName")
    )
    assert sorted(per_node.values()) == [2, 2, 2]
    await until(
        lambda: any(
            c.get("type") == "PodScheduled" and c.get("status") == "False"
            for c in api.objects[("pods", "ns", "big")].get("status", {}).get("conditions", [])
        )
    )
    await ev.flush()
    msgs = {e["message"] for e in api.objs("events") if e["reason"] == "FailedScheduling"}
    # kube's words, preemption's verdict appended: no node is big enough for 2 cpus, and the
    # 500m pods left over find nothing of lower priority to preempt
    assert (
        "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
        "3 Preemption is not helpful for scheduling."
    ) in msgs
    assert (
        "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
        "3 No preemption victims found for incoming pod."
    ) in msgs
    await api.create("nodes", node("huge", "8"))  # room for the 6 waiting 500m pods and big
    await until(lambda: api.objects[("pods", "ns", "big")]["spec"].get("nodeName") == "huge")
    for t in tasks:
        t.cancel()
    await f.stop()


async def test_a_gated_pod_waits_until_its_last_scheduling_gate_is_removed() -> None:
    api = FakeApi()
    await api.create("nodes", node("n0", "4"))
    f = InformerFactory(api)
    ev = EventRecorder(api, "default-scheduler")
    s = Scheduler(api, f, ev, initial_backoff=0.05, max_backoff=0.2)
    f.start()
    tasks = [asyncio.create_task(s.run()), asyncio.create_task(ev.run())]

    def node_of(name: str) -> str | None:
        return api.objects[("pods", "ns", name)]["spec"].get("nodeName")

    async def set_gates(gates: list[dict[str, str]]) -> None:
        current = api.objects[("pods", "ns", "gated")]
        await api.update("pods", {**current, "spec": {**current["spec"], "schedulingGates": gates}}, "ns")

    gated = pod("gated", "100m")
    gated["spec"]["schedulingGates"] = [{"name": "example.com/quota"}, {"name": "example.com/warm"}]
    await api.create("pods", gated)
    await api.create("pods", pod("free", "100m"))
    await until(lambda: node_of("free") == "n0")  # a pod created after the gated one: seen after it
    assert node_of("gated") is None
    await set_gates([{"name": "example.com/warm"}])  # one gate left: still held
    await api.create("pods", pod("free2", "100m"))
    await until(lambda: node_of("free2") == "n0")
    assert node_of("gated") is None
    await set_gates([])
    await until(lambda: node_of("gated") == "n0")
    for t in tasks:
        t.cancel()
    await f.stop()


async def _three_replicas_apart(
    api: FakeApi, node_labels: dict[str, dict[str, str]], topology_key: str
) -> tuple[Scheduler, InformerFactory, EventRecorder, list[asyncio.Task[None]]]:
    """Nodes with `node_labels`, a running scheduler, and 3 `app=web` pods with required
    anti-affinity over `topology_key`."""
    for name, labels in node_labels.items():
        n = node(name, "4")
        n["metadata"]["labels"] = labels
        await api.create("nodes", n)
    f = InformerFactory(api)
    ev = EventRecorder(api, "default-scheduler")
    s = Scheduler(api, f, ev, initial_backoff=0.05, max_backoff=0.2)
    f.start()
    tasks = [asyncio.create_task(s.run()), asyncio.create_task(ev.run())]
    term = {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": topology_key}
    rule = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    for i in range(3):
        p = pod(f"web-{i}", "100m")
        p["metadata"]["labels"] = {"app": "web"}
        p["spec"]["affinity"] = rule
        await api.create("pods", p)
    return s, f, ev, tasks


async def test_required_anti_affinity_spreads_replicas_and_holds_the_extra_one() -> None:
    api = FakeApi()
    hosts = {f"n{i}": {"kubernetes.io/hostname": f"n{i}"} for i in range(2)}
    s, f, ev, tasks = await _three_replicas_apart(api, hosts, "kubernetes.io/hostname")
    await until(lambda: s.bound == 2 and len(s.unschedulable) == 1)
    placed = sorted(p["spec"].get("nodeName") or "" for p in api.objs("pods"))
    assert placed == ["", "n0", "n1"]
    await ev.flush()
    msgs = {e["message"] for e in api.objs("events") if e["reason"] == "FailedScheduling"}
    assert (
        "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. "
        "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
    ) in msgs
    for t in tasks:
        t.cancel()
    await f.stop()


async def test_a_deleted_nodes_pods_stop_holding_their_zone() -> None:
    """Zone anti-affinity: once a node and its pod are gone, the zone takes the held replica on a
    new node (the deleted node's entry used to stay among the nodes with anti-affinity pods)."""
    api = FakeApi()
    zones = {
        name: {"kubernetes.io/hostname": name, "zone": zone} for name, zone in (("n0", "a"), ("n1", "b"))
    }
    s, f, _, tasks = await _three_replicas_apart(api, zones, "zone")
    await until(lambda: s.bound == 2 and len(s.unschedulable) == 1)
    on_n1 = next(p for p in api.objs("pods") if p["spec"].get("nodeName") == "n1")
    await api.delete("nodes", "n1")
    await until(lambda: "n1" not in s.node_infos)
    await api.delete("pods", on_n1["metadata"]["name"], on_n1["metadata"].get("namespace"))
    n2 = node("n2", "4")
    n2["metadata"]["labels"] = {"kubernetes.io/hostname": "n2", "zone": "b"}
    await api.create("nodes", n2)
    await until(lambda: any(p["spec"].get("nodeName") == "n2" for p in api.objs("pods")))
    for t in tasks:
        t.cancel()
    await f.stop()

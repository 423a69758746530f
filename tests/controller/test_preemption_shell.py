"""Preemption in the scheduler's shell, against the fake API: the victims marked then deleted and
told, the preemptor nominated then bound, a pod of policy Never left pending, and a pod of lower
priority kept off the room held for a nominated one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
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
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
        "status": {
            "allocatable": {"cpu": cpu, "memory": "1Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def pod(name: str, cpu: str, priority: int, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "ns", "labels": {"app": name.rstrip("0123456789")}},
        "spec": {
            "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}],
            "priority": priority,
            **spec,
        },
    }


class Shell:
    def __init__(self, api: FakeApi, backoff: float = 0.05) -> None:
        self.api = api
        self.factory = InformerFactory(api)
        self.events = EventRecorder(api, "default-scheduler")
        self.sched = Scheduler(
            api, self.factory, self.events, initial_backoff=backoff, max_backoff=4 * backoff
        )

    def pod(self, name: str) -> dict[str, Any] | None:
        return self.api.objects.get(("pods", "ns", name))

    def node_of(self, name: str) -> str | None:
        p = self.pod(name)
        return p["spec"].get("nodeName") if p else None

    async def told(self, reason: str) -> list[dict[str, Any]]:
        await self.events.flush()
        return [e for e in self.api.objs("events") if e["reason"] == reason]


@pytest.fixture(params=[0.05])
async def shell(request: pytest.FixtureRequest) -> AsyncIterator[Shell]:
    api = FakeApi()
    s = Shell(api, request.param)
    s.factory.start()
    tasks = [asyncio.create_task(s.sched.run()), asyncio.create_task(s.events.run())]
    yield s
    for t in tasks:
        t.cancel()
    await s.factory.stop()


async def fill_held(s: Shell, count: int) -> None:
    """Node n0 of `count` cpu filled with `count` low pods that a finalizer keeps terminating once
    deleted, as a kubelet's grace period would."""
    await s.api.create("nodes", node("n0", str(count)))
    for i in range(count):
        held = pod(f"low{i}", "1", 10)
        held["metadata"]["finalizers"] = ["example.com/hold"]
        await s.api.create("pods", held)
    await until(lambda: all(s.node_of(f"low{i}") == "n0" for i in range(count)), what="filled")


async def fill(s: Shell, node_name: str, count: int, priority: int, prefix: str = "low") -> None:
    """`count` pods of 1 cpu at `priority`, bound to `node_name` through the scheduler."""
    for i in range(count):
        await s.api.create("pods", pod(f"{prefix}{i}", "1", priority))
    await until(lambda: all(s.node_of(f"{prefix}{i}") == node_name for i in range(count)), what="filled")


async def test_a_high_priority_pod_preempts_the_fewest_lowest_and_binds(shell: Shell) -> None:
    s = shell
    await s.api.create("nodes", node("n0", "3"))
    await fill(s, "n0", 3, 10)
    s.api.calls.clear()
    await s.api.create("pods", pod("vip", "2", 1000))
    await until(lambda: s.node_of("vip") == "n0", what="vip bound to n0")
    gone = sorted(n for (verb, plural, n) in s.api.calls if verb == "delete" and plural == "pods")
    assert len(gone) == 2 and set(gone) <= {"low0", "low1", "low2"}
    survivor = ({"low0", "low1", "low2"} - set(gone)).pop()
    assert s.node_of(survivor) == "n0"
    # each victim was marked DisruptionTarget before its deletion
    for name in gone:
        order = [verb for (verb, plural, n) in s.api.calls if n == name]
        assert order.index("patch/status") < order.index("delete")
    marked = [
        obj
        for (_, plural, typ, obj) in s.api.history
        if plural == "pods" and obj["metadata"]["name"] in gone and typ == "DELETED"
    ]
    for obj in marked:
        (cond,) = [c for c in obj["status"]["conditions"] if c["type"] == "DisruptionTarget"]
        assert cond["reason"] == "PreemptionByScheduler" and cond["status"] == "True"
        assert cond["message"] == "default-scheduler: preempting to accommodate a higher priority pod"
    vip_uid = s.pod("vip")["metadata"]["uid"]  # type: ignore[index]
    events = await s.told("Preempted")
    assert sorted(e["involvedObject"]["name"] for e in events) == gone
    assert {e["message"] for e in events} == {f"Preempted by pod {vip_uid} on node n0"}
    assert {e["type"] for e in events} == {"Normal"}
    # the preemptor was nominated to the node before it bound there
    vip = [
        obj for (_, plural, _, obj) in s.api.history if plural == "pods" and obj["metadata"]["name"] == "vip"
    ]
    nominated_at = next(i for i, o in enumerate(vip) if o.get("status", {}).get("nominatedNodeName") == "n0")
    bound_at = next(i for i, o in enumerate(vip) if o["spec"].get("nodeName"))
    assert nominated_at < bound_at


async def test_preemption_policy_never_stays_pending(shell: Shell) -> None:
    s = shell
    await s.api.create("nodes", node("n0", "2"))
    await fill(s, "n0", 2, 10)
    await s.api.create("pods", pod("polite", "1", 1000, preemptionPolicy="Never"))
    failed = await until(
        lambda: [e for e in s.api.objs("events") if e["reason"] == "FailedScheduling"] or None,
        what="FailedScheduling",
    )
    await s.events.flush()
    assert failed[0]["message"] == (
        "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."
    )
    assert not any(verb == "delete" for (verb, _, _) in s.api.calls)
    assert s.node_of("polite") is None and not s.pod("polite")["status"].get("nominatedNodeName")  # type: ignore[index]


async def test_a_lower_pod_does_not_take_the_room_held_for_a_nominated_one(shell: Shell) -> None:
    s = shell
    await s.api.create("nodes", node("n0", "2"))
    await fill(s, "n0", 2, 10)
    # a pod of priority 500 nominated to n0, waiting for its victims (its gate keeps it from
    # being scheduled itself here)
    held = pod("waiting", "2", 500, schedulingGates=[{"name": "example.com/hold"}])
    held["status"] = {"nominatedNodeName": "n0"}
    await s.api.create("pods", held)
    await until(lambda: "ns/waiting" in s.sched.nominator.node_of, what="nomination seen")
    for i in range(2):
        await s.api.delete("pods", f"low{i}", "ns")
    await s.api.create("pods", pod("mid", "1", 100))
    failed = await until(
        lambda: [e for e in s.api.objs("events") if e["reason"] == "FailedScheduling"] or None,
        what="mid refused",
    )
    assert failed[0]["involvedObject"]["name"] == "mid"
    assert failed[0]["message"].startswith("0/1 nodes are available: 1 Insufficient cpu.")
    assert s.node_of("mid") is None
    # a pod of higher priority than the nominee is not held back by it
    await s.api.create("pods", pod("top", "1", 900))
    await until(lambda: s.node_of("top") == "n0", what="top bound")


async def test_the_preemptor_waits_for_its_victims_rather_than_preempting_again(shell: Shell) -> None:
    s = shell
    await fill_held(s, 3)
    await s.api.create("pods", pod("vip", "2", 1000))
    waiting = (
        "0/1 nodes are available: 1 Insufficient cpu. "
        "preemption: not eligible due to a terminating pod on the nominated node."
    )
    await until(
        lambda: any(
            e["message"] == waiting for e in s.api.objs("events") if e["reason"] == "FailedScheduling"
        ),
        what="vip retried while its victims terminate",
    )
    deleted = [n for (verb, plural, n) in s.api.calls if verb == "delete" and plural == "pods"]
    assert len(deleted) == 2 and s.node_of("vip") is None
    assert s.pod("vip")["status"]["nominatedNodeName"] == "n0"  # type: ignore[index]
    for name in deleted:  # their kubelet done: the pods go, and vip takes the room
        await s.api.patch("pods", name, {"metadata": {"finalizers": None}}, namespace="ns")
    await until(lambda: s.node_of("vip") == "n0", what="vip bound")
    assert len([n for (verb, plural, n) in s.api.calls if verb == "delete" and plural == "pods"]) == 2


@pytest.mark.parametrize("shell", [60.0], indirect=True)  # no back-off retry within the test
async def test_the_preemptor_is_retried_when_its_victims_go_not_at_once(shell: Shell) -> None:
    s = shell
    await fill_held(s, 2)
    await s.api.create("pods", pod("vip", "2", 1000))
    await until(
        lambda: (s.pod("vip") or {}).get("status", {}).get("nominatedNodeName") == "n0", what="vip nominated"
    )
    await until(lambda: "ns/vip" not in s.sched.preempting, what="the preemption's writes done")
    # its victims still terminating, nothing has changed for it: it waits rather than failing again
    assert "ns/vip" in s.sched.unschedulable
    assert len(await s.told("FailedScheduling")) == 1
    for i in range(2):
        await s.api.patch("pods", f"low{i}", {"metadata": {"finalizers": None}}, namespace="ns")
    await until(lambda: s.node_of("vip") == "n0", timeout=10, what="vip bound once its victims went")
    assert len(await s.told("FailedScheduling")) == 1

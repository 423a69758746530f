"""The replication controller's shell against the fake API: create, scale, adopt, release."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from api.events import EventRecorder
from api.informer import InformerFactory
from controller.replication import ReplicationController
from tests.controller.fakeapi import FakeApi
from tests.polling import until

pytestmark = pytest.mark.anyio


def rc_body(n: int) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {
            "replicas": n,
            "selector": {"app": "web"},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}},
        },
    }


@contextlib.asynccontextmanager
async def running(api: FakeApi) -> AsyncIterator[ReplicationController]:
    """The controller on `api` with its informers and event recorder, all stopped on leaving."""
    f = InformerFactory(api)
    ev = EventRecorder(api, "replication-controller")
    ctl = ReplicationController(api, f.informer("replicationcontrollers"), f.informer("pods"), ev)
    f.start()
    tasks = [asyncio.create_task(ctl.run()), asyncio.create_task(ev.run())]
    try:
        yield ctl
    finally:
        for t in tasks:
            t.cancel()
        await f.stop()


def live(api: FakeApi) -> list[dict[str, Any]]:
    return [p for p in api.objs("pods", "ns") if not p["metadata"].get("deletionTimestamp")]


async def test_replicas_scale_adopt_release() -> None:
    api = FakeApi()
    api.latency = 0.001
    await api.create(
        "pods", {"metadata": {"name": "orphan", "namespace": "ns", "labels": {"app": "web"}}, "spec": {}}
    )
    async with running(api) as ctl:
        created = await api.create("replicationcontrollers", rc_body(5))
        await until(lambda: len(live(api)) == 5)
        assert all(
            p["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"] for p in live(api)
        )
        await until(lambda: (api.objs("replicationcontrollers")[0].get("status") or {}).get("replicas") == 5)
        # never more than 5 created (4 + the adopted orphan)
        assert sum(1 for c in api.calls if c[:2] == ("create", "pods")) == 1 + 4
        await api.patch("replicationcontrollers", "web", {"spec": {"replicas": 2}}, namespace="ns")
        await until(lambda: len(live(api)) == 2)
        await api.patch("replicationcontrollers", "web", {"spec": {"replicas": 3}}, namespace="ns")
        await until(lambda: len(live(api)) == 3)
        # a pod whose labels stop matching is released and replaced
        victim = live(api)[0]["metadata"]["name"]
        await api.patch("pods", victim, {"metadata": {"labels": {"app": "gone"}}}, namespace="ns")
        await until(lambda: not api.objects[("pods", "ns", victim)]["metadata"].get("ownerReferences"))
        await until(lambda: sum(1 for p in live(api) if p["metadata"]["labels"]["app"] == "web") == 3)
        await ctl.events.flush()
        reasons = {e["reason"] for e in api.objs("events")}
        assert {"SuccessfulCreate", "SuccessfulDelete"} <= reasons


async def test_status_writes_of_pods_are_folded_but_a_finished_pod_is_replaced_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import controller.replication

    monkeypatch.setattr(controller.replication, "STATUS_BATCH", 1.0)  # wide: a loaded machine stays inside
    api = FakeApi()
    async with running(api) as ctl:
        await api.create("replicationcontrollers", rc_body(3))
        await until(lambda: len(live(api)) == 3)
        # settled: the RC's own status write came back through its informer and nothing is queued
        await until(
            lambda: (
                ((ctl.rcs.get("ns/web") or {}).get("status") or {}).get("replicas") == 3
                and len(ctl.queue) == 0
                and not ctl.queue._processing
                and not ctl.queue._timers
            )
        )
        syncs: list[str] = []
        real_sync = ctl.sync

        def ready_written() -> bool:
            return (api.objs("replicationcontrollers")[0].get("status") or {}).get("readyReplicas") == 3

        async def counted(key: str) -> None:
            if not ready_written():  # (the echo of the RC's own status write comes after)
                syncs.append(key)
            await real_sync(key)

        ctl.sync = counted  # type: ignore[method-assign]
        ready = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        for p in live(api):
            await api.patch(
                "pods", p["metadata"]["name"], {"status": ready}, namespace="ns", subresource="status"
            )
        await until(ready_written)
        assert len(syncs) == 1  # three status writes, one sync
        monkeypatch.setattr(controller.replication, "STATUS_BATCH", 60.0)
        victim = live(api)[0]["metadata"]["name"]
        await api.patch("pods", victim, {"status": {"phase": "Failed"}}, namespace="ns", subresource="status")
        # replaced at once, not held back like a status refresh
        await until(lambda: sum(1 for c in api.calls if c[:2] == ("create", "pods")) == 4)

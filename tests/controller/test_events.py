"""The event recorder aggregates repeats into one Event with a count."""

from __future__ import annotations

import asyncio

import pytest

from api.events import WARNING, EventRecorder
from tests.controller.fakeapi import FakeApi

pytestmark = pytest.mark.anyio


async def test_repeats_aggregate_into_one_event() -> None:
    api = FakeApi()
    rec = EventRecorder(api, "scheduler")
    task = asyncio.create_task(rec.run())
    pod = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "namespace": "ns", "uid": "u1"}}
    for _ in range(5):
        rec.record(pod, WARNING, "FailedScheduling", "0/1 nodes are available: 1 Insufficient cpu.")
    await rec.flush()
    rec.record(pod, WARNING, "FailedScheduling", "0/1 nodes are available: 1 Insufficient cpu.")
    rec.record(pod, WARNING, "Other", "x")
    await rec.flush()
    evs = sorted(api.objs("events"), key=lambda e: e["reason"])
    assert [(e["reason"], e["count"]) for e in evs] == [("FailedScheduling", 6), ("Other", 1)]
    assert evs[0]["involvedObject"]["uid"] == "u1" and evs[0]["source"]["component"] == "scheduler"
    assert evs[0]["metadata"]["namespace"] == "ns"
    task.cancel()


async def test_many_messages_for_one_reason_are_combined() -> None:
    api = FakeApi()
    rec = EventRecorder(api, "replication-controller")
    task = asyncio.create_task(rec.run())
    rc = {"kind": "ReplicationController", "metadata": {"name": "web", "namespace": "ns", "uid": "u"}}
    for i in range(30):
        rec.record(rc, "Normal", "SuccessfulCreate", f"Created pod: web-{i}")
    await rec.flush()
    evs = api.objs("events")
    assert len(evs) == 11
    combined = [e for e in evs if e["message"].startswith("(combined from similar events): ")]
    assert len(combined) == 1 and combined[0]["count"] == 20
    assert combined[0]["message"].endswith("Created pod: web-29")
    task.cancel()


def _pod(i: int) -> dict[str, object]:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": f"p{i}", "namespace": "ns", "uid": f"u{i}"},
    }


async def test_a_backlog_bigger_than_the_cache_loses_no_event() -> None:
    # a scheduler binding faster than its events are written: the cache's eviction must not lose them
    api = FakeApi()
    rec = EventRecorder(api, "default-scheduler", cache_size=16)
    for i in range(200):
        rec.record(_pod(i), "Normal", "Scheduled", f"Successfully assigned ns/p{i} to n1")
    rec.record(_pod(0), "Normal", "Scheduled", "Successfully assigned ns/p0 to n1")  # a repeat, evicted
    task = asyncio.create_task(rec.run())
    await rec.flush()
    evs = api.objs("events")
    assert len(evs) == 200 and rec.dropped == 0
    assert {e["involvedObject"]["name"]: e["count"] for e in evs}["p0"] == 2
    task.cancel()


async def test_beyond_the_backlog_new_events_are_dropped_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = FakeApi()
    rec = EventRecorder(api, "default-scheduler", cache_size=16, max_backlog=50)
    for i in range(80):
        rec.record(_pod(i), "Normal", "Scheduled", f"Successfully assigned ns/p{i} to n1")
    task = asyncio.create_task(rec.run())
    await rec.flush()
    names = sorted(int(e["involvedObject"]["name"][1:]) for e in api.objs("events"))
    assert names == list(range(50)) and rec.dropped == 30  # the first 50 kept, as a full queue keeps them
    assert "dropped event Scheduled of Pod p50 (1 dropped so far)" in caplog.text
    task.cancel()

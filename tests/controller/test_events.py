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

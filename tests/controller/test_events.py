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

"""Work-queue and scheduler metrics (api/procmetrics.py) under client-go's and kube-scheduler's names."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY

from api.procmetrics import scheduling_attempt
from api.workqueue import WorkQueue


def _value(metric: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


def test_named_queue_records_adds_depth_and_durations() -> None:
    async def scenario() -> None:
        q: WorkQueue[str] = WorkQueue(name="test-queue")
        q.add("a")
        q.add("a")  # de-duplicated: one add counted
        q.add("b")
        assert _value("workqueue_depth", name="test-queue") == 2
        key = await q.get()
        assert _value("workqueue_depth", name="test-queue") == 1
        q.add_rate_limited(key)
        q.done(key)
        await q.get()
        q.done("b")

    asyncio.run(scenario())
    assert _value("workqueue_adds_total", name="test-queue") == 2
    assert _value("workqueue_retries_total", name="test-queue") == 1
    assert _value("workqueue_queue_duration_seconds_count", name="test-queue") == 2
    assert _value("workqueue_work_duration_seconds_count", name="test-queue") == 2


def test_unnamed_queue_records_nothing() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("x")
    assert q._metrics is None


def test_scheduling_attempts() -> None:
    before = _value("scheduler_schedule_attempts_total", result="scheduled", profile="default-scheduler")
    scheduling_attempt("scheduled", 0.01)
    assert (
        _value("scheduler_schedule_attempts_total", result="scheduled", profile="default-scheduler")
        == before + 1
    )
    assert (
        _value(
            "scheduler_e2e_scheduling_duration_seconds_count", result="scheduled", profile="default-scheduler"
        )
        >= 1
    )

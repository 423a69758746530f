"""Work-queue and scheduler metrics (api/procmetrics.py) under client-go's and kube-scheduler's names."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY

from api.procmetrics import preemption_attempt, scheduling_attempt
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


def test_preemption_attempts_and_victims() -> None:
    attempts, chosen = (
        _value("scheduler_preemption_attempts_total"),
        _value("scheduler_preemption_victims_count"),
    )
    preemption_attempt(0)  # an attempt that chose nobody: no victims observed
    preemption_attempt(3)
    assert _value("scheduler_preemption_attempts_total") == attempts + 2
    assert _value("scheduler_preemption_victims_count") == chosen + 1
    assert _value("scheduler_preemption_victims_bucket", le="4.0") >= 1


def test_expositions_merge_into_one_declaration_per_family() -> None:
    """Two processes' work queues: one HELP and TYPE, both processes' samples, families kept apart."""
    from prometheus_client.parser import text_string_to_metric_families

    from api.procmetrics import merge_expositions

    cm = (
        b"# HELP workqueue_adds_total Total number of adds\n# TYPE workqueue_adds_total counter\n"
        b'workqueue_adds_total{name="replication"} 3.0\n'
        b"# HELP workqueue_depth Current depth\n# TYPE workqueue_depth gauge\n"
        b'workqueue_depth{name="replication"} 0.0\n'
    )
    sched = (
        b"# HELP workqueue_adds_total Total number of adds\n# TYPE workqueue_adds_total counter\n"
        b'workqueue_adds_total{name="scheduler"} 2.0\n'
    )
    merged = merge_expositions([cm, b"", sched])
    assert (
        merged.count(b"# TYPE workqueue_adds_total") == 1
        and merged.count(b"# HELP workqueue_adds_total") == 1
    )
    families = {f.name: f for f in text_string_to_metric_families(merged.decode())}
    adds = {s.labels["name"]: s.value for s in families["workqueue_adds"].samples}
    assert adds == {"replication": 3.0, "scheduler": 2.0}
    assert [s.value for s in families["workqueue_depth"].samples] == [0.0]
    assert merge_expositions([b"", b""]) == b""

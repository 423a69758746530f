"""Process-wide Prometheus metric families of the control loops: work queues and the scheduler.

Under client-go's and kube-scheduler's names (`workqueue_depth{name}`, `workqueue_adds_total`,
`workqueue_work_duration_seconds`, `workqueue_queue_duration_seconds`, `workqueue_retries_total`,
`scheduler_schedule_attempts_total{result,profile}`, `scheduler_e2e_scheduling_duration_seconds`,
`scheduler_preemption_attempts_total`, `scheduler_preemption_victims`),
so kube's dashboards read them unchanged. They live in prometheus_client's default registry, one
per process: `kubelite server` runs its controllers and scheduler in-process and its `/metrics`
answers the default registry after its own; families are created on first use, so a process that
never names a queue never imports prometheus_client.
"""

from __future__ import annotations

import functools
from typing import Any

# client-go's workqueue buckets: 10^-8 .. 10^1 seconds
_QUEUE_BUCKETS = tuple(10.0**e for e in range(-8, 2))
# kube-scheduler's e2e buckets: exponential from 1 ms, factor 2, 15 buckets
_SCHED_BUCKETS = tuple(0.001 * 2**i for i in range(15))
_VICTIM_BUCKETS = tuple(float(2**i) for i in range(7))  # kube's: 1 .. 64 victims


@functools.cache
def workqueue_families() -> dict[str, Any]:
    from prometheus_client import Counter, Gauge, Histogram

    return {
        "depth": Gauge("workqueue_depth", "Current depth of workqueue", ("name",)),
        "adds": Counter("workqueue_adds", "Total number of adds handled by workqueue", ("name",)),
        "retries": Counter("workqueue_retries", "Total number of retries handled by workqueue", ("name",)),
        "queue": Histogram(
            "workqueue_queue_duration_seconds",
            "How long in seconds an item stays in workqueue before being requested.",
            ("name",),
            buckets=_QUEUE_BUCKETS,
        ),
        "work": Histogram(
            "workqueue_work_duration_seconds",
            "How long in seconds processing an item from workqueue takes.",
            ("name",),
            buckets=_QUEUE_BUCKETS,
        ),
    }


class QueueMetrics:
    """One named queue's bound children (a label lookup once, not per add)."""

    def __init__(self, name: str, depth: Any) -> None:
        fam = workqueue_families()
        self.adds = fam["adds"].labels(name)
        self.retries = fam["retries"].labels(name)
        self.queue_duration = fam["queue"].labels(name)
        self.work_duration = fam["work"].labels(name)
        fam["depth"].labels(name).set_function(depth)


@functools.cache
def scheduler_families() -> dict[str, Any]:
    from prometheus_client import Counter, Histogram

    return {
        "attempts": Counter(
            "scheduler_schedule_attempts",
            "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod "
            "could not be scheduled, while 'error' means an internal scheduler problem.",
            ("result", "profile"),
        ),
        "e2e": Histogram(
            "scheduler_e2e_scheduling_duration_seconds",
            "E2e scheduling latency in seconds (scheduling algorithm + binding)",
            ("result", "profile"),
            buckets=_SCHED_BUCKETS,
        ),
        "preemptions": Counter(
            "scheduler_preemption_attempts", "Total preemption attempts in the cluster till now"
        ),
        "victims": Histogram(
            "scheduler_preemption_victims", "Number of selected preemption victims", buckets=_VICTIM_BUCKETS
        ),
    }


def scheduling_attempt(result: str, seconds: float, profile: str = "default-scheduler") -> None:
    """One scheduling attempt: result is `scheduled`, `unschedulable` or `error` (kube's values)."""
    fam = scheduler_families()
    fam["attempts"].labels(result, profile).inc()
    fam["e2e"].labels(result, profile).observe(seconds)


def preemption_attempt(victims: int) -> None:
    """One preemption attempt (kube counts each PostFilter run) and, when some were chosen, its
    number of victims."""
    fam = scheduler_families()
    fam["preemptions"].inc()
    if victims:
        fam["victims"].observe(victims)


def exposition() -> bytes:
    """The default registry as Prometheus text (empty when nothing in this process recorded)."""
    import sys

    if "prometheus_client" not in sys.modules:
        return b""
    from prometheus_client import REGISTRY, generate_latest

    return generate_latest(REGISTRY)


def merge_expositions(texts: list[bytes]) -> bytes:
    """Several processes' Prometheus texts as one: each family once, with every process's samples
    under its first HELP and TYPE (a family declared twice is invalid exposition). The control
    loops run as the server's child processes, and each has work queues of its own (pure)."""
    order: list[bytes] = []
    heads: dict[bytes, list[bytes]] = {}
    samples: dict[bytes, list[bytes]] = {}
    for text in texts:
        family = b""
        for line in text.splitlines():
            if not line.strip():
                continue
            if line.startswith(b"# HELP ") or line.startswith(b"# TYPE "):
                family = line.split(b" ", 3)[2]
                if family not in heads:
                    order.append(family)
                    heads[family], samples[family] = [], []
                if len(heads[family]) < 2 and line not in heads[family]:
                    heads[family].append(line)
            elif not line.startswith(b"#"):
                if family not in heads:  # samples with no header (not from generate_latest)
                    order.append(family)
                    heads[family], samples[family] = [], []
                samples[family].append(line)
    out = [line for family in order for line in (*heads[family], *samples[family])]
    return b"\n".join(out) + b"\n" if out else b""

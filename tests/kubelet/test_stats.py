"""The kubelet's usage sampling (kubelet/stats.py) and its own metrics (kubelet/stats_metrics.py):
pure parsing and rates, a real busy process's cgroup read through a runtime that names it, the
Summary API's shape, runtime operations counted through the seam, pod start durations."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

import pytest
from prometheus_client import REGISTRY

from kubelet.containerconfig import CONTAINER_NAME, POD_NAME, POD_NAMESPACE, POD_UID
from kubelet.stats import Sample, StatsCollector, nano_cores, parse_proc_cgroup, working_set
from kubelet.stats_metrics import InstrumentedRuntime, PodStartTracker
from runtime.fake import FakeRuntime
from runtime.interface import ContainerInfo


def test_pure_parts() -> None:
    text = "12:memory:/kubepods/podu/k8s_c\n4:cpu,cpuacct:/kubepods/podu/k8s_c\n0::/user.slice\n"
    assert parse_proc_cgroup(text) == {
        "memory": "/kubepods/podu/k8s_c",
        "cpu": "/kubepods/podu/k8s_c",
        "cpuacct": "/kubepods/podu/k8s_c",
    }
    assert working_set(10_000, "cache 5\ntotal_inactive_file 4000\n") == 6000
    assert working_set(10, "total_inactive_file 4000\n") == 0
    assert nano_cores(Sample(1.0, 1_000_000_000, 0), Sample(3.0, 2_000_000_000, 0)) == 500_000_000
    assert nano_cores(None, Sample(3.0, 5, 0)) is None
    assert nano_cores(Sample(3.0, 9, 0), Sample(3.0, 10, 0)) is None


class _OneContainer:
    """A runtime whose one running container is a real process of ours."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    async def list_containers(self, labels: Any = None) -> list[ContainerInfo]:
        return [
            ContainerInfo(
                id="c1",
                sandbox_id="s1",
                name="burn",
                image="busybox",
                image_id="sha256:x",
                labels={POD_UID: "u1", POD_NAME: "p", POD_NAMESPACE: "default", CONTAINER_NAME: "burn"},
                state="running",
                pid=self.pid,
            )
        ]


def test_collector_reads_a_busy_process() -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        collector = StatsCollector(_OneContainer(busy.pid), "n1", interval=0.3)  # type: ignore[arg-type]

        async def two_samples() -> dict[str, Any]:
            await collector.sample()
            await asyncio.sleep(0.5)
            await collector.sample()
            return collector.summary()

        summary = asyncio.run(two_samples())
    finally:
        busy.kill()
        busy.wait()
    assert summary["node"]["nodeName"] == "n1" and summary["node"]["cpu"]["usageNanoCores"] > 0
    pod = summary["pods"][0]
    assert pod["podRef"] == {"name": "p", "namespace": "default", "uid": "u1"}
    c = pod["containers"][0]
    # the process's cgroup holds at least the busy loop: well over 10 millicores
    assert c["name"] == "burn" and c["cpu"]["usageNanoCores"] > 10_000_000
    assert c["memory"]["workingSetBytes"] > 0
    assert pod["cpu"]["usageNanoCores"] == c["cpu"]["usageNanoCores"]
    assert 0.3 < summary["window"] < 5


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_runtime_operations_are_counted() -> None:
    rt = InstrumentedRuntime(FakeRuntime())
    before = _value("kubelet_runtime_operations_total", operation_type="list_containers")
    asyncio.run(rt.list_containers())
    asyncio.run(rt.list_containers())
    assert _value("kubelet_runtime_operations_total", operation_type="list_containers") == before + 2
    errors = _value("kubelet_runtime_operations_errors_total", operation_type="container_status")
    with pytest.raises(Exception):  # noqa: B017 - whatever the fake raises for an unknown id
        asyncio.run(rt.container_status("nope"))
    assert _value("kubelet_runtime_operations_errors_total", operation_type="container_status") == errors + 1


def test_pod_start_duration() -> None:
    tracker = PodStartTracker()
    before = _value("kubelet_pod_start_duration_seconds_count")
    pod = {"metadata": {"uid": "a"}, "status": {"phase": "Pending"}}
    tracker.seen(pod)
    time.sleep(0.01)
    tracker.updated({**pod, "status": {"phase": "Pending"}})
    assert _value("kubelet_pod_start_duration_seconds_count") == before
    tracker.updated({**pod, "status": {"phase": "Running"}})
    tracker.updated({**pod, "status": {"phase": "Running"}})  # counted once
    assert _value("kubelet_pod_start_duration_seconds_count") == before + 1
    assert _value("kubelet_pod_start_duration_seconds_sum") > 0
    tracker.seen(
        {"metadata": {"uid": "running"}, "status": {"phase": "Running"}}
    )  # seen after the fact: none
    tracker.updated({"metadata": {"uid": "running"}, "status": {"phase": "Running"}})
    assert _value("kubelet_pod_start_duration_seconds_count") == before + 1

"""The kubelet's `/metrics/resource` text (kubelet/resourcemetrics.py) from a stats snapshot: kube's
metric names, help, types and labels, timestamps in milliseconds on the usage samples and none on
the start times, families and series in client_golang's order, Go's float formatting; and a
collector's snapshot carrying the containers' start times."""

from __future__ import annotations

import asyncio
import os

from kubelet.containerconfig import CONTAINER_NAME, POD_NAME, POD_NAMESPACE, POD_UID
from kubelet.resourcemetrics import go_float, render
from kubelet.stats import ContainerUsage, Sample, Snapshot, StatsCollector
from runtime.interface import ContainerInfo

T = 1624396278.302091  # a sample's wall-clock time


def test_go_float_is_gos_shortest_g_format() -> None:
    cases = {
        10.0: "10",
        1000.0: "1000",
        123456.0: "123456",
        1e6: "1e+06",
        1.5e8: "1.5e+08",
        1624396248.3020916: "1.6243962483020916e+09",
        12.5: "12.5",
        0.001: "0.001",
        0.0001: "0.0001",
        0.00001: "1e-05",
        0.0: "0",
        -2.5: "-2.5",
    }
    assert {v: go_float(v) for v in cases} == cases


def test_render_a_node_with_two_pods() -> None:
    snap = Snapshot(
        Sample(T, 10_000_000_000, 1000),
        [
            ContainerUsage("namespace_b", "pod_b", "container_a", Sample(T, 10_000_000_000, 1000), T - 600),
            ContainerUsage(
                "namespace_a", "pod_a", "container_b", Sample(T, 2_500_000_000, 2_000_000), T - 120
            ),
            ContainerUsage("namespace_a", "pod_a", "container_a", Sample(T, 10_000_000_000, 1000), 0.0),
        ],
    )
    assert render(snap).decode() == (
        "# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container "
        "in core-seconds\n"
        "# TYPE container_cpu_usage_seconds_total counter\n"
        'container_cpu_usage_seconds_total{container="container_a",namespace="namespace_a",pod="pod_a"} '
        "10 1624396278302\n"
        'container_cpu_usage_seconds_total{container="container_a",namespace="namespace_b",pod="pod_b"} '
        "10 1624396278302\n"
        'container_cpu_usage_seconds_total{container="container_b",namespace="namespace_a",pod="pod_a"} '
        "2.5 1624396278302\n"
        "# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes\n"
        "# TYPE container_memory_working_set_bytes gauge\n"
        'container_memory_working_set_bytes{container="container_a",namespace="namespace_a",pod="pod_a"} '
        "1000 1624396278302\n"
        'container_memory_working_set_bytes{container="container_a",namespace="namespace_b",pod="pod_b"} '
        "1000 1624396278302\n"
        'container_memory_working_set_bytes{container="container_b",namespace="namespace_a",pod="pod_a"} '
        "2e+06 1624396278302\n"
        "# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds\n"
        "# TYPE container_start_time_seconds gauge\n"
        'container_start_time_seconds{container="container_a",namespace="namespace_b",pod="pod_b"} '
        "1.624395678302091e+09\n"
        'container_start_time_seconds{container="container_b",namespace="namespace_a",pod="pod_a"} '
        "1.624396158302091e+09\n"
        "# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds\n"
        "# TYPE node_cpu_usage_seconds_total counter\n"
        "node_cpu_usage_seconds_total 10 1624396278302\n"
        "# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes\n"
        "# TYPE node_memory_working_set_bytes gauge\n"
        "node_memory_working_set_bytes 1000 1624396278302\n"
        "# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds\n"
        "# TYPE pod_cpu_usage_seconds_total counter\n"
        'pod_cpu_usage_seconds_total{namespace="namespace_a",pod="pod_a"} 12.5 1624396278302\n'
        'pod_cpu_usage_seconds_total{namespace="namespace_b",pod="pod_b"} 10 1624396278302\n'
        "# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes\n"
        "# TYPE pod_memory_working_set_bytes gauge\n"
        'pod_memory_working_set_bytes{namespace="namespace_a",pod="pod_a"} 2.001e+06 1624396278302\n'
        'pod_memory_working_set_bytes{namespace="namespace_b",pod="pod_b"} 1000 1624396278302\n'
        "# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, "
        "0 otherwise\n"
        "# TYPE resource_scrape_error gauge\n"
        "resource_scrape_error 0\n"
    )


def test_render_before_any_sample_and_after_a_failed_one() -> None:
    assert render(Snapshot(None, [], failed=True)).decode() == (
        "# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, "
        "0 otherwise\n"
        "# TYPE resource_scrape_error gauge\n"
        "resource_scrape_error 1\n"
    )
    odd = Snapshot(None, [ContainerUsage('n"s', "p\\1", "c\n", Sample(T, 0, 0), 0.0)])
    assert 'container_cpu_usage_seconds_total{container="c\\n",namespace="n\\"s",pod="p\\\\1"} 0' in (
        render(odd).decode()
    )


class OurProcess:
    """A runtime whose one running container is this test process, started at `T`."""

    async def list_containers(self, labels: object = None) -> list[ContainerInfo]:
        labels = {POD_UID: "u1", POD_NAME: "p", POD_NAMESPACE: "default", CONTAINER_NAME: "c"}
        return [
            ContainerInfo(
                "c1", "s1", "c", "busybox", "sha256:x", labels, "running", os.getpid(), started_at=T
            )
        ]


def test_collector_snapshot_and_summary_carry_start_times() -> None:
    collector = StatsCollector(OurProcess(), "n1")  # type: ignore[arg-type]

    async def sampled() -> Snapshot:
        await collector.sample()
        return collector.snapshot()

    snap = asyncio.run(sampled())
    assert snap.node is not None and not snap.failed
    (c,) = snap.containers
    assert (c.namespace, c.pod, c.container, c.started_at) == ("default", "p", "c", T)
    assert c.sample.cpu_ns > 0 and c.sample.working_set > 0
    assert collector.summary()["pods"][0]["containers"][0]["startTime"] == "2021-06-22T21:11:18Z"

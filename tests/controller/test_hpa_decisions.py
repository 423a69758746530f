"""The HPA's arithmetic (controller/hpa_decisions.py) against kube's replica_calculator and horizontal.go rules."""

from __future__ import annotations

import pytest

from controller import hpa_decisions as d
from controller.hpa_metrics import pod_sample


def pods(*usage: float | None, request: int = 100, ready: bool = True) -> list[d.PodSample]:
    return [d.PodSample(f"p{i}", request, u, ready) for i, u in enumerate(usage)]


def test_scale_up_is_ceil_of_ratio_times_ready_pods() -> None:
    rec = d.utilization_replicas(2, pods(90, 110), 50)  # 100% of request against a 50% target
    assert (rec.replicas, rec.utilization, rec.usage_milli) == (4, 100, 100)
    assert d.utilization_replicas(3, pods(70, 70, 70), 50).replicas == 5  # ceil(1.4 * 3)


def test_within_tolerance_nothing_moves() -> None:
    assert d.utilization_replicas(2, pods(54, 54), 50).replicas == 2  # ratio 1.08
    assert d.utilization_replicas(2, pods(46, 46), 50).replicas == 2  # ratio 0.92
    assert d.utilization_replicas(2, pods(56, 56), 50).replicas == 3  # ratio 1.12: ceil(2.24)


def test_scale_down() -> None:
    assert d.utilization_replicas(4, pods(10, 10, 10, 10), 50).replicas == 1  # ceil(0.2 * 4)


def test_missing_metrics_are_assumed_against_the_move() -> None:
    # scaling down: a pod without metrics counts as 100% of its request, which here cancels the move
    assert d.utilization_replicas(2, pods(20, None), 50).replicas == 2
    # scaling up: the missing pod counts 0%: ratio (200+0)/(2*100)/0.5 = 2.0 -> ceil(2 * 2) = 4
    assert d.utilization_replicas(2, pods(200, None), 50).replicas == 4


def test_unready_pods_count_zero_when_scaling_up() -> None:
    samples = [*pods(200), d.PodSample("u", 100, 300, False)]
    # only the ready pod drives the ratio (4.0); the unready one is assumed idle: (200+0)/200/0.5 = 2 -> 4
    assert d.utilization_replicas(2, samples, 50).replicas == 4


def test_errors() -> None:
    with pytest.raises(d.MetricsError, match="missing request for cpu in container c of Pod x"):
        d.utilization_replicas(1, [d.PodSample("x", 0, 5, True, missing_request="c")], 50)
    with pytest.raises(d.MetricsError, match="did not receive metrics"):
        d.utilization_replicas(1, pods(None), 50)
    with pytest.raises(d.MetricsError, match="no pods"):
        d.utilization_replicas(1, [], 50)


def test_downscale_stabilisation_keeps_the_highest_recent_recommendation() -> None:
    h = d.History()
    assert d.stabilize(h, 0.0, 2, 5, None) == 5
    assert d.stabilize(h, 10.0, 5, 1, None) == 5  # 5 was recommended 10 s ago: inside the 300 s window
    assert d.stabilize(h, 301.0, 5, 1, None) == 1
    short = {"scaleDown": {"stabilizationWindowSeconds": 5}, "scaleUp": {"stabilizationWindowSeconds": 0}}
    h2 = d.History()
    assert d.stabilize(h2, 0.0, 2, 5, short) == 5
    assert d.stabilize(h2, 3.0, 5, 1, short) == 5
    assert d.stabilize(h2, 6.0, 5, 1, short) == 1


def test_limits() -> None:
    h = d.History()
    assert d.limit(1, 10, 1, 20, None, h, 0.0) == (
        4,
        "ScaleUpLimit",
        "the desired replica count is increasing faster than the maximum scale rate",
    )
    assert d.limit(3, 9, 1, 5, None, h, 0.0)[:2] == (5, "TooManyReplicas")
    assert d.limit(3, 0, 1, 5, None, h, 0.0)[:2] == (1, "TooFewReplicas")
    assert d.limit(3, 4, 1, 5, None, h, 0.0)[:2] == (4, "DesiredWithinRange")
    # behavior: scale up by at most max(4 pods, 100%) per 15 s; scale down Percent 50 per 60 s
    behavior = {
        "scaleUp": {
            "selectPolicy": "Max",
            "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ],
        },
        "scaleDown": {
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
        },
    }
    assert d.limit(2, 20, 1, 50, behavior, h, 0.0)[:2] == (6, "ScaleUpLimit")  # 2 + 4 pods beats 2 * 2
    d.record_scale(h, 0.0, 2, 6)
    assert d.limit(6, 20, 1, 50, behavior, h, 5.0)[0] == 6  # 4 already added this period: 2 + 4 = 6
    assert d.limit(10, 1, 1, 50, behavior, h, 100.0)[:2] == (5, "ScaleDownLimit")
    disabled = {"scaleDown": {"selectPolicy": "Disabled", "policies": []}, "scaleUp": {}}
    assert d.limit(10, 1, 1, 50, disabled, h, 100.0)[0] == 10


def test_pod_sample_reads_requests_and_readiness() -> None:
    pod = {
        "metadata": {"name": "x"},
        "spec": {
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "250m"}}},
                {"name": "b", "resources": {"requests": {"cpu": "1"}}},
            ]
        },
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }
    s = pod_sample(pod, 30.0)
    assert (s.request_milli, s.ready, s.ignored, s.missing_request) == (1250, True, False, "")
    no_request = {**pod, "spec": {"containers": [{"name": "c"}]}}
    assert pod_sample(no_request, None).missing_request == "c"
    assert pod_sample({**pod, "status": {"phase": "Failed"}}, None).ignored


MI = 1024 * 1024 * 1000  # one Mi in milli-bytes, as the metrics client reads memory


def test_memory_utilization_uses_the_same_ratio_and_names_the_resource() -> None:
    # 96Mi used of 64Mi requested on each of 2 pods: 150% against 60% -> ceil(2.5 * 2) = 5
    rec = d.utilization_replicas(2, pods(96 * MI, 96 * MI, request=64 * MI), 60, "memory")
    assert (rec.replicas, rec.utilization, rec.usage_milli) == (5, 150, 96 * MI)
    assert d.utilization_replicas(2, pods(40 * MI, 40 * MI, request=64 * MI), 60, "memory").replicas == 2
    with pytest.raises(d.MetricsError, match="missing request for memory in container c of Pod x"):
        d.utilization_replicas(1, [d.PodSample("x", 0, 5, True, missing_request="c")], 50, "memory")


def test_average_value_ratio_tolerance_and_missing_pods() -> None:
    # 300Mi average against a 100Mi target: ceil(3 * 2) = 6; no requests needed
    rec = d.average_value_replicas(2, pods(300 * MI, 300 * MI, request=0), 100 * MI)
    assert (rec.replicas, rec.utilization, rec.usage_milli) == (6, None, 300 * MI)
    assert d.average_value_replicas(2, pods(105 * MI, 95 * MI), 100 * MI).replicas == 2  # ratio 1.0
    assert d.average_value_replicas(4, pods(*[20 * MI] * 4), 100 * MI).replicas == 1  # ceil(0.2 * 4)
    # scaling down with a pod unmeasured: it counts as the target: (20+100)/2/100 = 0.6 -> ceil(1.2) = 2
    assert d.average_value_replicas(2, pods(20 * MI, None), 100 * MI).replicas == 2
    # scaling up with a pod unmeasured: it counts 0: (400+0)/2/100 = 2.0 -> 4
    assert d.average_value_replicas(2, pods(400 * MI, None), 100 * MI).replicas == 4
    # an unready measured pod counts 0 on a scale-up: (300+0)/2/100 = 1.5 -> 3
    samples = [*pods(300 * MI), d.PodSample("u", 0, 900 * MI, False)]
    assert d.average_value_replicas(2, samples, 100 * MI).replicas == 3
    with pytest.raises(d.MetricsError, match="did not receive metrics"):
        d.average_value_replicas(1, pods(None), 100)

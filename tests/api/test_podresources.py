"""api.podresources: kube's PodRequests/PodLimits rule, with native sidecars, as the scheduler,
ResourceQuota and the LimitRanger count a pod."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from api.podresources import aggregate
from api.quota import pod_total
from controller.scheduler.nodeinfo import pod_info


def _c(name: str, cpu: str | None = None, sidecar: bool = False) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": "i"}
    if cpu is not None:
        c["resources"] = {"requests": {"cpu": cpu}, "limits": {"cpu": cpu}}
    if sidecar:
        c["restartPolicy"] = "Always"
    return c


# app 100m + 50m; then init i1 300m, sidecar s1 100m, init i2 250m (beside s1: 350m), sidecar s2 50m
SPEC: dict[str, Any] = {
    "containers": [_c("a", "100m"), _c("b", "50m")],
    "initContainers": [_c("i1", "300m"), _c("s1", "100m", True), _c("i2", "250m"), _c("s2", "50m", True)],
}


def _millis(c: dict[str, Any]) -> dict[str, int]:
    cpu = ((c.get("resources") or {}).get("requests") or {}).get("cpu")
    return {} if cpu is None else {"cpu": int(cpu.rstrip("m"))}


def test_sidecars_add_up_and_init_steps_run_beside_them() -> None:
    # app and sidecars: 100 + 50 + 100 + 50 = 300; i2's step: 250 + s1's 100 = 350, the most
    assert aggregate(SPEC, _millis) == {"cpu": 350}
    without_sidecars = {"containers": SPEC["containers"], "initContainers": [_c("i1", "300m")]}
    assert aggregate(without_sidecars, _millis) == {"cpu": 300}  # the largest init container
    assert aggregate({"containers": SPEC["containers"]}, _millis) == {"cpu": 150}


def test_quota_and_scheduler_count_the_same() -> None:
    assert pod_total(SPEC, "requests", "cpu") == Decimal("0.35")
    assert pod_total(SPEC, "limits", "cpu") == Decimal("0.35")
    assert pod_total(SPEC, "requests", "memory") is None
    info = pod_info("ns/p", {"metadata": {"name": "p", "namespace": "ns"}, "spec": SPEC})
    assert info.milli_cpu == 350
    # the scoring's non-zero view: every container without a memory request counts 200Mi, and
    # the init step beside s1 counts i2's and s1's defaults
    assert info.memory == 0
    assert info.nonzero_memory == 4 * 200 * 1024 * 1024


def test_overhead_is_added_by_the_scheduler_not_by_the_sum() -> None:
    spec = {**SPEC, "overhead": {"cpu": "10m"}}
    assert pod_total(spec, "requests", "cpu") == Decimal("0.35")  # LimitRanger's sum: no overhead
    info = pod_info("ns/p", {"metadata": {"name": "p"}, "spec": spec})
    assert info.milli_cpu == 360

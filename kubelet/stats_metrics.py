"""The kubelet's own Prometheus metrics, under the real kubelet's names, served at its `/metrics`.

- `kubelet_runtime_operations_total{operation_type}`, `kubelet_runtime_operations_errors_total` and
  `kubelet_runtime_operations_duration_seconds`: every call through the `Runtime` seam, counted by
  `InstrumentedRuntime` (a wrapper satisfying the same Protocol, so the kubelet is unchanged).
  Operation types are the seam's method names (`create_container`, `run_sandbox`, `pull_image` ...).
- `kubelet_pod_start_duration_seconds`: from the kubelet first seeing a pod to the pod's phase
  turning Running, as the kubelet's informer observes it (`PodStartTracker`).

The families live in prometheus_client's default registry, imported on first use: a node agent
with several hollow kubelets in one process sums their operations, as one process would.
"""

from __future__ import annotations

import functools
import inspect
import time
from typing import Any

# the kubelet's buckets for pod start: 0.5 s .. 10 min
_START_BUCKETS = (0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200)
_OP_BUCKETS = (
    0.005,
    0.0125,
    0.03125,
    0.078125,
    0.1953125,
    0.48828125,
    1.220703125,
    3.0517578125,
    7.62939453125,
    19.073486328125,
    47.6837158203125,
    119.20928955078125,
)


@functools.cache
def _families() -> dict[str, Any]:
    from prometheus_client import Counter, Histogram

    return {
        "ops": Counter(
            "kubelet_runtime_operations",
            "Cumulative number of runtime operations by operation type.",
            ("operation_type",),
        ),
        "errors": Counter(
            "kubelet_runtime_operations_errors",
            "Cumulative number of runtime operation errors by operation type.",
            ("operation_type",),
        ),
        "duration": Histogram(
            "kubelet_runtime_operations_duration_seconds",
            "Duration in seconds of runtime operations. Broken down by operation type.",
            ("operation_type",),
            buckets=_OP_BUCKETS,
        ),
        "pod_start": Histogram(
            "kubelet_pod_start_duration_seconds",
            "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
            buckets=_START_BUCKETS,
        ),
    }


class InstrumentedRuntime:
    """Any `Runtime`, its coroutine methods counted and timed; everything else passed through."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        _families()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or not inspect.iscoroutinefunction(attr):
            return attr
        fam = _families()
        ops, errors, duration = (
            fam["ops"].labels(name),
            fam["errors"].labels(name),
            fam["duration"].labels(name),
        )

        @functools.wraps(attr)
        async def counted(*args: Any, **kw: Any) -> Any:
            ops.inc()
            start = time.perf_counter()
            try:
                return await attr(*args, **kw)
            except Exception:
                errors.inc()
                raise
            finally:
                duration.observe(time.perf_counter() - start)

        setattr(self, name, counted)  # wrapped once per method
        return counted


class PodStartTracker:
    """First sight of each pod -> the moment its phase is first seen Running."""

    def __init__(self) -> None:
        self._first_seen: dict[str, float] = {}

    def seen(self, pod: dict[str, Any]) -> None:
        uid = (pod.get("metadata") or {}).get("uid")
        if uid and uid not in self._first_seen and (pod.get("status") or {}).get("phase") != "Running":
            self._first_seen[uid] = time.monotonic()

    def updated(self, pod: dict[str, Any]) -> None:
        uid = (pod.get("metadata") or {}).get("uid")
        if uid in self._first_seen and (pod.get("status") or {}).get("phase") == "Running":
            _families()["pod_start"].observe(time.monotonic() - self._first_seen.pop(uid))
        elif uid and (pod.get("metadata") or {}).get("deletionTimestamp"):
            self._first_seen.pop(uid, None)

    def deleted(self, pod: dict[str, Any]) -> None:
        self._first_seen.pop(str((pod.get("metadata") or {}).get("uid")), None)

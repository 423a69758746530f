"""The kubelet's resource metrics endpoint, `/metrics/resource`: what metrics-server scrapes.

kube's resource metrics collector (pkg/kubelet/metrics/collectors/resource_metrics.go), rendered
from the samples `kubelet.stats` already takes, in Prometheus text format 0.0.4 as
client_golang writes it:

- `node_cpu_usage_seconds_total` (counter) and `node_memory_working_set_bytes` (gauge), from the
  root cgroups;
- `container_cpu_usage_seconds_total`, `container_memory_working_set_bytes` and
  `container_start_time_seconds`, labelled `container`, `namespace`, `pod`;
- `pod_cpu_usage_seconds_total` and `pod_memory_working_set_bytes`, labelled `namespace`, `pod`
  (here the sums of the pod's containers; kube reads the pod's own cgroup);
- `resource_scrape_error`: 1 when the last sampling failed, else 0.

As kube's: every usage sample carries the time it was read as its timestamp (milliseconds since
the epoch), the start time carries none and is left out when unknown; help texts are prefixed
with the metric's stability (`[STABLE]`); families are sorted by name and series by their label
values; numbers are written as Go's `strconv.FormatFloat(v, 'g', -1, 64)` (`1.5e+08`, `10`).
Swap metrics are not written (no swap accounting here), nor the deprecated `scrape_error`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal

from kubelet.stats import Snapshot

_C, _P = ("container", "namespace", "pod"), ("namespace", "pod")
# name -> (type, help, label names)
FAMILIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "node_cpu_usage_seconds_total": (
        "counter",
        "Cumulative cpu time consumed by the node in core-seconds",
        (),
    ),
    "node_memory_working_set_bytes": ("gauge", "Current working set of the node in bytes", ()),
    "container_cpu_usage_seconds_total": (
        "counter",
        "Cumulative cpu time consumed by the container in core-seconds",
        _C,
    ),
    "container_memory_working_set_bytes": ("gauge", "Current working set of the container in bytes", _C),
    "container_start_time_seconds": ("gauge", "Start time of the container since unix epoch in seconds", _C),
    "pod_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed by the pod in core-seconds", _P),
    "pod_memory_working_set_bytes": ("gauge", "Current working set of the pod in bytes", _P),
    "resource_scrape_error": (
        "gauge",
        "1 if there was an error while getting container metrics, 0 otherwise",
        (),
    ),
}
Series = tuple[str, tuple[str, ...], float, int | None]  # family, label values, value, timestamp (ms)


def go_float(v: float) -> str:
    """`v` as Go's FormatFloat(v, 'g', -1, 64): the shortest digits that read back as `v`, in
    exponent form when the decimal exponent is below -4 or at least 6 (hence `1e+06`)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "0"
    sign = "-" if v < 0 else ""
    t = Decimal(repr(abs(v))).normalize().as_tuple()
    digits = "".join(map(str, t.digits))
    point = len(digits) + int(t.exponent)  # where the decimal point falls in `digits`
    exp = point - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    whole, frac = digits[:point].ljust(point, "0"), digits[point:]
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _ms(at: float) -> int:
    return int(at * 1000)


def series(snap: Snapshot) -> list[Series]:
    """Every series the endpoint writes for this snapshot, unordered (pure)."""
    out: list[Series] = []
    if snap.node is not None:
        ts = _ms(snap.node.at)
        out.append(("node_cpu_usage_seconds_total", (), snap.node.cpu_ns / 1e9, ts))
        out.append(("node_memory_working_set_bytes", (), float(snap.node.working_set), ts))
    pods: dict[tuple[str, str], list[float]] = {}  # (namespace, pod) -> [cpu ns, bytes, latest time]
    for c in snap.containers:
        labels, ts = (c.container, c.namespace, c.pod), _ms(c.sample.at)
        out.append(("container_cpu_usage_seconds_total", labels, c.sample.cpu_ns / 1e9, ts))
        out.append(("container_memory_working_set_bytes", labels, float(c.sample.working_set), ts))
        if c.started_at > 0:
            out.append(("container_start_time_seconds", labels, c.started_at, None))
        total = pods.setdefault((c.namespace, c.pod), [0.0, 0.0, 0.0])
        total[0] += c.sample.cpu_ns
        total[1] += c.sample.working_set
        total[2] = max(total[2], c.sample.at)
    for (ns, pod), (cpu_ns, memory, at) in pods.items():
        out.append(("pod_cpu_usage_seconds_total", (ns, pod), cpu_ns / 1e9, _ms(at)))
        out.append(("pod_memory_working_set_bytes", (ns, pod), memory, _ms(at)))
    out.append(("resource_scrape_error", (), 1.0 if snap.failed else 0.0, None))
    return out


def exposition(found: Iterable[Series]) -> bytes:
    """Prometheus text of these series: families by name, series by label values (pure)."""
    by_family: dict[str, list[Series]] = {}
    for s in found:
        by_family.setdefault(s[0], []).append(s)
    lines: list[str] = []
    for name in sorted(by_family):
        kind, help_text, label_names = FAMILIES[name]
        lines.append(f"# HELP {name} [STABLE] {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for _, values, value, ts in sorted(by_family[name], key=lambda s: s[1]):
            labels = ",".join(f'{k}="{_escape(v)}"' for k, v in zip(label_names, values, strict=True))
            sample = f"{name}{{{labels}}}" if labels else name
            lines.append(f"{sample} {go_float(value)}" + (f" {ts}" if ts is not None else ""))
    return ("\n".join(lines) + "\n").encode()


def render(snap: Snapshot) -> bytes:
    return exposition(series(snap))

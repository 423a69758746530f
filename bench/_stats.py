"""Shared figures for the benchmarks: percentiles and a printed side-by-side table.

Every bench prints its own figures next to its reference (raw runc, raw SQLite, podman, the
real kubectl) measured in the same run, so the ratio is what to read, not the absolute number.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sample."""
    s = sorted(samples)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def summary_ms(samples: Sequence[float]) -> str:
    """`p50 12.3 ms  p99 40.1 ms  (n=100)` for samples in seconds."""
    return (
        f"p50 {percentile(samples, 50) * 1000:7.1f} ms  p99 {percentile(samples, 99) * 1000:7.1f} ms"
        f"  mean {statistics.fmean(samples) * 1000:7.1f} ms  (n={len(samples)})"
    )


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    cells = [list(map(str, header))] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine_speed_ms(rounds: int = 3) -> float:
    """The best of `rounds` timings of a fixed pure-Python loop (sum of 10^7 ints), in ms: the speed
    of this machine's shared cores at the moment, printed beside CPU figures so that runs made at
    different times can be compared (on this machine class it swings 2-3x with the host's load)."""
    import time

    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        sum(range(10_000_000))
        best = min(best, time.perf_counter() - t0)
    return best * 1000

"""Scaling a plugin's raw scores to 0..100 across the candidate nodes (kube's NormalizeScore).

Kept apart from the framework, which imports every plugin, so that plugins can share it.
"""

from __future__ import annotations

from collections.abc import Sequence


def min_max(scores: Sequence[float], lower_is_better: bool = False, flat: float = 0.0) -> list[float]:
    """The lowest raw score becomes 0 and the highest 100 (the reverse when lower is better);
    when all are equal every node gets `flat`."""
    low, high = min(scores, default=0.0), max(scores, default=0.0)
    if high == low:
        return [flat] * len(scores)
    if lower_is_better:
        return [100.0 * (high - s) / (high - low) for s in scores]
    return [100.0 * (s - low) / (high - low) for s in scores]

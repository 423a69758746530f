"""Go's rounding, where a Kubernetes computation's result depends on it.

Python's `round()` rounds halves to even; Go's `math.Round` rounds them away from zero. kube's
controllers (a Deployment's proportional scaling) and its API server (API Priority and Fairness'
lendable and borrowing seat limits) round with Go's, so kubelite's copies of those computations
call this one.
"""

from __future__ import annotations

import math


def go_round(x: float) -> int:
    """Go's math.Round: halves away from zero."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)

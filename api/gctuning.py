"""The cyclic garbage collector's settings for a process that holds big caches of API objects.

The API server (its watch cache), the controller manager and the scheduler (informer caches of
every pod) and a hollow agent (hundreds of kubelets' caches) keep tens of thousands of objects
alive while nearly everything a request or a watch event allocates is acyclic JSON, freed by
reference counting. At CPython's default young threshold (700 allocations) a young collection
ran every few requests or events and walked the caches' newest survivors again and again
(measured in the API server: ~20% of its loop under a pod burst). So: what exists at start-up
(modules, documents) is frozen out of the collector, and a young collection waits for 50,000
allocations.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def tune_for_caches() -> None:
    """Freeze what is alive now and make young collections rare (call once, before serving)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 20, 20)

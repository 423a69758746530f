"""Field table of scheduling.k8s.io/v1 PriorityClass, in the compact notation of `types.py`
(k8s.io/api scheduling/v1 as of Kubernetes 1.33).

A small group of its own, as kube keeps it: the class has no spec, its fields sit at the top.
"""

from __future__ import annotations

from apiserver.schema.types import TYPE_META

SCHEDULING = "io.k8s.api.scheduling.v1"

SCHEDULING_TYPES: dict[str, dict[str, str]] = {
    "PriorityClass": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "value!": "integer",
        "globalDefault": "boolean",
        "description": "string",
        "preemptionPolicy": "string",
    },
}

SCHEDULING_KINDS: dict[str, str] = {"PriorityClass": "scheduling.k8s.io/v1"}
SCHEDULING_LISTED_KINDS = tuple(SCHEDULING_KINDS)

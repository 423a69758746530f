"""Field table of core/v1 LimitRange, in the compact notation of `types.py` (k8s.io/api core/v1 as
of Kubernetes 1.33): a namespace's default and bounding resources for containers, pods and claims.
"""

from __future__ import annotations

from apiserver.schema.types import TYPE_META

QUOTA_TYPES: dict[str, dict[str, str]] = {
    "LimitRange": {**TYPE_META, "metadata": "ObjectMeta", "spec": "LimitRangeSpec"},
    "LimitRangeSpec": {"limits!": "[LimitRangeItem]"},
    "LimitRangeItem": {
        "type!": "string",
        "max": "{Quantity}",
        "min": "{Quantity}",
        "default": "{Quantity}",
        "defaultRequest": "{Quantity}",
        "maxLimitRequestRatio": "{Quantity}",
    },
}

QUOTA_KINDS: dict[str, str] = {"LimitRange": "v1"}
QUOTA_LISTED_KINDS = tuple(QUOTA_KINDS)

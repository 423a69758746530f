"""Field table of core/v1 LimitRange and ResourceQuota, in the compact notation of `types.py`
(k8s.io/api core/v1 as of Kubernetes 1.33): a namespace's default and bounding resources for
containers, pods and claims, and what the namespace may use in all.
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
    "ResourceQuota": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "ResourceQuotaSpec",
        "status": "ResourceQuotaStatus",
    },
    "ResourceQuotaSpec": {"hard": "{Quantity}", "scopes": "[string]", "scopeSelector": "ScopeSelector"},
    "ScopeSelector": {"matchExpressions": "[ScopedResourceSelectorRequirement]"},
    "ScopedResourceSelectorRequirement": {
        "scopeName!": "string",
        "operator!": "string",
        "values": "[string]",
    },
    "ResourceQuotaStatus": {"hard": "{Quantity}", "used": "{Quantity}"},
}

QUOTA_KINDS: dict[str, str] = {"LimitRange": "v1", "ResourceQuota": "v1"}
QUOTA_LISTED_KINDS = tuple(QUOTA_KINDS)

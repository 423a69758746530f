"""Field table of node.k8s.io/v1 RuntimeClass, in the compact notation of `types.py`
(k8s.io/api node/v1 as of Kubernetes 1.33).

A group of its own, as kube keeps it: the class has no spec, `handler`, `overhead` and
`scheduling` sit at the top. Its tolerations are core/v1 Tolerations (one type, shared).
"""

from __future__ import annotations

from apiserver.schema.types import TYPE_META

NODE = "io.k8s.api.node.v1"

NODE_TYPES: dict[str, dict[str, str]] = {
    "RuntimeClass": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "handler!": "string",
        "overhead": "Overhead",
        "scheduling": "Scheduling",
    },
    "Overhead": {"podFixed": "{Quantity}"},
    "Scheduling": {"nodeSelector": "{string}", "tolerations": "[Toleration]"},
}

NODE_KINDS: dict[str, str] = {"RuntimeClass": "node.k8s.io/v1"}
NODE_LISTED_KINDS = tuple(NODE_KINDS)

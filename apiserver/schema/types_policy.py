"""Field table of policy/v1 PodDisruptionBudget and Eviction, in the compact notation of `types.py`
(k8s.io/api policy/v1 as of Kubernetes 1.33).

A group of its own, as kube keeps it: a budget limits voluntary disruptions of the pods its
selector matches, and an Eviction (the body POSTed to pods/<name>/eviction) asks for one.
"""

from __future__ import annotations

from apiserver.schema.types import TYPE_META

POLICY = "io.k8s.api.policy.v1"

POLICY_TYPES: dict[str, dict[str, str]] = {
    "PodDisruptionBudget": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "PodDisruptionBudgetSpec",
        "status": "PodDisruptionBudgetStatus",
    },
    "PodDisruptionBudgetSpec": {
        "minAvailable": "IntOrString",
        "selector": "LabelSelector",
        "maxUnavailable": "IntOrString",
        "unhealthyPodEvictionPolicy": "string",
    },
    "PodDisruptionBudgetStatus": {
        "observedGeneration": "integer",
        "disruptedPods": "{Time}",
        "disruptionsAllowed!": "integer",
        "currentHealthy!": "integer",
        "desiredHealthy!": "integer",
        "expectedPods!": "integer",
        "conditions": "[Condition]@type",
    },
    "Eviction": {**TYPE_META, "metadata": "ObjectMeta", "deleteOptions": "DeleteOptions"},
}

POLICY_KINDS: dict[str, str] = {"PodDisruptionBudget": "policy/v1", "Eviction": "policy/v1"}
POLICY_LISTED_KINDS = ("PodDisruptionBudget",)

"""Field tables of autoscaling/v2 HorizontalPodAutoscaler (k8s.io/api autoscaling/v2 as of Kubernetes 1.33)
and of metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics (k8s.io/metrics),
in the compact notation of `types.py`.

Its own package (`io.k8s.api.autoscaling.v2`) apart from autoscaling/v1's Scale in `types.py`: the
OpenAPI names the two groups' types by package, and kubectl's validation looks them up that way.
"""

from __future__ import annotations

from apiserver.schema.types import TYPE_META, condition

AUTOSCALING_V2 = "io.k8s.api.autoscaling.v2"

AUTOSCALING_V2_TYPES: dict[str, dict[str, str]] = {
    "HorizontalPodAutoscaler": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "HorizontalPodAutoscalerSpec",
        "status": "HorizontalPodAutoscalerStatus",
    },
    "HorizontalPodAutoscalerSpec": {
        "scaleTargetRef!": "CrossVersionObjectReference",
        "minReplicas": "integer",
        "maxReplicas!": "integer",
        "metrics": "[MetricSpec]",
        "behavior": "HorizontalPodAutoscalerBehavior",
    },
    "CrossVersionObjectReference": {"kind!": "string", "name!": "string", "apiVersion": "string"},
    "MetricSpec": {
        "type!": "string",
        "object": "ObjectMetricSource",
        "pods": "PodsMetricSource",
        "resource": "ResourceMetricSource",
        "containerResource": "ContainerResourceMetricSource",
        "external": "ExternalMetricSource",
    },
    "ResourceMetricSource": {"name!": "string", "target!": "MetricTarget"},
    "ContainerResourceMetricSource": {"name!": "string", "target!": "MetricTarget", "container!": "string"},
    "ObjectMetricSource": {
        "describedObject!": "CrossVersionObjectReference",
        "target!": "MetricTarget",
        "metric!": "MetricIdentifier",
    },
    "PodsMetricSource": {"metric!": "MetricIdentifier", "target!": "MetricTarget"},
    "ExternalMetricSource": {"metric!": "MetricIdentifier", "target!": "MetricTarget"},
    "MetricIdentifier": {"name!": "string", "selector": "LabelSelector"},
    "MetricTarget": {
        "type!": "string",
        "value": "Quantity",
        "averageValue": "Quantity",
        "averageUtilization": "integer",
    },
    "HorizontalPodAutoscalerBehavior": {"scaleUp": "HPAScalingRules", "scaleDown": "HPAScalingRules"},
    "HPAScalingRules": {
        "stabilizationWindowSeconds": "integer",
        "selectPolicy": "string",
        "policies": "[HPAScalingPolicy]",
        "tolerance": "Quantity",
    },
    "HPAScalingPolicy": {"type!": "string", "value!": "integer", "periodSeconds!": "integer"},
    "HorizontalPodAutoscalerStatus": {
        "observedGeneration": "integer",
        "lastScaleTime": "Time",
        "currentReplicas": "integer",
        "desiredReplicas!": "integer",
        "currentMetrics": "[MetricStatus]",
        "conditions": "[HorizontalPodAutoscalerCondition]@type",
    },
    "MetricStatus": {
        "type!": "string",
        "object": "ObjectMetricStatus",
        "pods": "PodsMetricStatus",
        "resource": "ResourceMetricStatus",
        "containerResource": "ContainerResourceMetricStatus",
        "external": "ExternalMetricStatus",
    },
    "ResourceMetricStatus": {"name!": "string", "current!": "MetricValueStatus"},
    "ContainerResourceMetricStatus": {
        "name!": "string",
        "current!": "MetricValueStatus",
        "container!": "string",
    },
    "ObjectMetricStatus": {
        "metric!": "MetricIdentifier",
        "current!": "MetricValueStatus",
        "describedObject!": "CrossVersionObjectReference",
    },
    "PodsMetricStatus": {"metric!": "MetricIdentifier", "current!": "MetricValueStatus"},
    "ExternalMetricStatus": {"metric!": "MetricIdentifier", "current!": "MetricValueStatus"},
    "MetricValueStatus": {"value": "Quantity", "averageValue": "Quantity", "averageUtilization": "integer"},
    "HorizontalPodAutoscalerCondition": condition(),
}

AUTOSCALING_V2_KINDS: dict[str, str] = {"HorizontalPodAutoscaler": "autoscaling/v2"}
AUTOSCALING_V2_LISTED_KINDS = ("HorizontalPodAutoscaler",)

# metrics.k8s.io/v1beta1 (k8s.io/metrics): what the autoscaler and `kubectl top` read, never stored
METRICS = "io.k8s.metrics.pkg.apis.metrics.v1beta1"
METRICS_TYPES: dict[str, dict[str, str]] = {
    "NodeMetrics": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "timestamp": "Time",
        "window": "string",
        "usage": "{Quantity}",
    },
    "PodMetrics": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "timestamp": "Time",
        "window": "string",
        "containers": "[ContainerMetrics]",
    },
    "ContainerMetrics": {"name": "string", "usage": "{Quantity}"},
}
METRICS_KINDS: dict[str, str] = {
    "NodeMetrics": "metrics.k8s.io/v1beta1",
    "PodMetrics": "metrics.k8s.io/v1beta1",
}
METRICS_LISTED_KINDS = ("NodeMetrics", "PodMetrics")

# autoscaling/v1 HorizontalPodAutoscaler (the same stored objects, `api.hpav1`): its types share
# their names with v2's in another package, so here they carry a prefix and `NAMES` gives kube's
AUTOSCALING_V1 = "io.k8s.api.autoscaling.v1"
AUTOSCALING_V1_TYPES: dict[str, dict[str, str]] = {
    "AutoscalingV1HorizontalPodAutoscaler": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "AutoscalingV1HorizontalPodAutoscalerSpec",
        "status": "AutoscalingV1HorizontalPodAutoscalerStatus",
    },
    "AutoscalingV1HorizontalPodAutoscalerSpec": {
        "scaleTargetRef!": "AutoscalingV1CrossVersionObjectReference",
        "minReplicas": "integer",
        "maxReplicas!": "integer",
        "targetCPUUtilizationPercentage": "integer",
    },
    "AutoscalingV1CrossVersionObjectReference": {
        "kind!": "string",
        "name!": "string",
        "apiVersion": "string",
    },
    "AutoscalingV1HorizontalPodAutoscalerStatus": {
        "observedGeneration": "integer",
        "lastScaleTime": "Time",
        "currentReplicas!": "integer",
        "desiredReplicas!": "integer",
        "currentCPUUtilizationPercentage": "integer",
    },
}
AUTOSCALING_V1_KINDS: dict[str, str] = {"AutoscalingV1HorizontalPodAutoscaler": "autoscaling/v1"}
AUTOSCALING_V1_LISTED_KINDS = tuple(AUTOSCALING_V1_KINDS)
_PREFIX = "AutoscalingV1"
NAMES = {
    name: name[len(_PREFIX) :] for name in (*AUTOSCALING_V1_TYPES, "AutoscalingV1HorizontalPodAutoscalerList")
}

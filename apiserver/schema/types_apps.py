"""The field tables of the workload kinds: apps/v1 and batch/v1, as of Kubernetes 1.33.

Same compact notation as `types.py` (whose core types these refer to: `ObjectMeta`,
`LabelSelector`, `PodTemplateSpec`, `ObjectReference`). Kept apart so the core table stays
readable and the workload kinds can grow on their own. `PersistentVolumeClaim` (a StatefulSet's
volumeClaimTemplates) is `object` until core has a type for it.

Field names and merge keys follow k8s.io/api apps/v1 and batch/v1 types.go; `!` marks what the
OpenAPI document lists as required.
"""

from __future__ import annotations

from apiserver.schema.types import TYPE_META, condition

APPS = "io.k8s.api.apps.v1"
BATCH = "io.k8s.api.batch.v1"

# the condition shape every apps/v1 controller reports (DeploymentCondition adds lastUpdateTime)
APPS_TYPES: dict[str, dict[str, str]] = {
    # --- Deployment
    "Deployment": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "DeploymentSpec",
        "status": "DeploymentStatus",
    },
    "DeploymentSpec": {
        "replicas": "integer",
        "selector!": "LabelSelector",
        "template!": "PodTemplateSpec",
        "strategy": "DeploymentStrategy@retainKeys",
        "minReadySeconds": "integer",
        "revisionHistoryLimit": "integer",
        "paused": "boolean",
        "progressDeadlineSeconds": "integer",
    },
    "DeploymentStrategy": {"type": "string", "rollingUpdate": "RollingUpdateDeployment"},
    "RollingUpdateDeployment": {"maxUnavailable": "IntOrString", "maxSurge": "IntOrString"},
    "DeploymentStatus": {
        "observedGeneration": "integer",
        "replicas": "integer",
        "updatedReplicas": "integer",
        "readyReplicas": "integer",
        "availableReplicas": "integer",
        "unavailableReplicas": "integer",
        "terminatingReplicas": "integer",
        "conditions": "[DeploymentCondition]@type",
        "collisionCount": "integer",
    },
    "DeploymentCondition": condition("lastUpdateTime"),
    # --- ReplicaSet
    "ReplicaSet": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "ReplicaSetSpec",
        "status": "ReplicaSetStatus",
    },
    "ReplicaSetSpec": {
        "replicas": "integer",
        "minReadySeconds": "integer",
        "selector!": "LabelSelector",
        "template": "PodTemplateSpec",
    },
    "ReplicaSetStatus": {
        "replicas!": "integer",
        "fullyLabeledReplicas": "integer",
        "readyReplicas": "integer",
        "availableReplicas": "integer",
        "terminatingReplicas": "integer",
        "observedGeneration": "integer",
        "conditions": "[ReplicaSetCondition]@type",
    },
    "ReplicaSetCondition": condition(),
    # --- DaemonSet
    "DaemonSet": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "DaemonSetSpec",
        "status": "DaemonSetStatus",
    },
    "DaemonSetSpec": {
        "selector!": "LabelSelector",
        "template!": "PodTemplateSpec",
        "updateStrategy": "DaemonSetUpdateStrategy",
        "minReadySeconds": "integer",
        "revisionHistoryLimit": "integer",
    },
    "DaemonSetUpdateStrategy": {"type": "string", "rollingUpdate": "RollingUpdateDaemonSet"},
    "RollingUpdateDaemonSet": {"maxUnavailable": "IntOrString", "maxSurge": "IntOrString"},
    "DaemonSetStatus": {
        "currentNumberScheduled!": "integer",
        "numberMisscheduled!": "integer",
        "desiredNumberScheduled!": "integer",
        "numberReady!": "integer",
        "observedGeneration": "integer",
        "updatedNumberScheduled": "integer",
        "numberAvailable": "integer",
        "numberUnavailable": "integer",
        "collisionCount": "integer",
        "conditions": "[DaemonSetCondition]@type",
    },
    "DaemonSetCondition": condition(),
    # --- StatefulSet
    "StatefulSet": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "StatefulSetSpec",
        "status": "StatefulSetStatus",
    },
    "StatefulSetSpec": {
        "replicas": "integer",
        "selector!": "LabelSelector",
        "template!": "PodTemplateSpec",
        "volumeClaimTemplates": "[object]",
        "serviceName": "string",
        "podManagementPolicy": "string",
        "updateStrategy": "StatefulSetUpdateStrategy",
        "revisionHistoryLimit": "integer",
        "minReadySeconds": "integer",
        "persistentVolumeClaimRetentionPolicy": "StatefulSetPersistentVolumeClaimRetentionPolicy",
        "ordinals": "StatefulSetOrdinals",
    },
    "StatefulSetUpdateStrategy": {"type": "string", "rollingUpdate": "RollingUpdateStatefulSetStrategy"},
    "RollingUpdateStatefulSetStrategy": {"partition": "integer", "maxUnavailable": "IntOrString"},
    "StatefulSetPersistentVolumeClaimRetentionPolicy": {"whenDeleted": "string", "whenScaled": "string"},
    "StatefulSetOrdinals": {"start": "integer"},
    "StatefulSetStatus": {
        "observedGeneration": "integer",
        "replicas!": "integer",
        "readyReplicas": "integer",
        "currentReplicas": "integer",
        "updatedReplicas": "integer",
        "currentRevision": "string",
        "updateRevision": "string",
        "collisionCount": "integer",
        "conditions": "[StatefulSetCondition]@type",
        "availableReplicas": "integer",
    },
    "StatefulSetCondition": condition(),
    # --- ControllerRevision: data is a RawExtension (any JSON object)
    "ControllerRevision": {**TYPE_META, "metadata": "ObjectMeta", "data": "object", "revision!": "integer"},
}

BATCH_TYPES: dict[str, dict[str, str]] = {
    # --- Job
    "Job": {**TYPE_META, "metadata": "ObjectMeta", "spec": "JobSpec", "status": "JobStatus"},
    "JobSpec": {
        "parallelism": "integer",
        "completions": "integer",
        "activeDeadlineSeconds": "integer",
        "podFailurePolicy": "PodFailurePolicy",
        "successPolicy": "SuccessPolicy",
        "backoffLimit": "integer",
        "backoffLimitPerIndex": "integer",
        "maxFailedIndexes": "integer",
        "selector": "LabelSelector",
        "manualSelector": "boolean",
        "template!": "PodTemplateSpec",
        "ttlSecondsAfterFinished": "integer",
        "completionMode": "string",
        "suspend": "boolean",
        "podReplacementPolicy": "string",
        "managedBy": "string",
    },
    "PodFailurePolicy": {"rules!": "[PodFailurePolicyRule]"},
    "PodFailurePolicyRule": {
        "action!": "string",
        "onExitCodes": "PodFailurePolicyOnExitCodesRequirement",
        "onPodConditions": "[PodFailurePolicyOnPodConditionsPattern]",
    },
    "PodFailurePolicyOnExitCodesRequirement": {
        "containerName": "string",
        "operator!": "string",
        "values!": "[integer]@set",
    },
    "PodFailurePolicyOnPodConditionsPattern": {"type!": "string", "status": "string"},
    "SuccessPolicy": {"rules!": "[SuccessPolicyRule]"},
    "SuccessPolicyRule": {"succeededIndexes": "string", "succeededCount": "integer"},
    "JobStatus": {
        "conditions": "[JobCondition]@type",
        "startTime": "Time",
        "completionTime": "Time",
        "active": "integer",
        "succeeded": "integer",
        "failed": "integer",
        "terminating": "integer",
        "completedIndexes": "string",
        "failedIndexes": "string",
        "uncountedTerminatedPods": "UncountedTerminatedPods",
        "ready": "integer",
    },
    "UncountedTerminatedPods": {"succeeded": "[string]@set", "failed": "[string]@set"},
    "JobCondition": condition("lastProbeTime"),
    "JobTemplateSpec": {"metadata": "ObjectMeta", "spec": "JobSpec"},
    # --- CronJob
    "CronJob": {**TYPE_META, "metadata": "ObjectMeta", "spec": "CronJobSpec", "status": "CronJobStatus"},
    "CronJobSpec": {
        "schedule!": "string",
        "timeZone": "string",
        "startingDeadlineSeconds": "integer",
        "concurrencyPolicy": "string",
        "suspend": "boolean",
        "jobTemplate!": "JobTemplateSpec",
        "successfulJobsHistoryLimit": "integer",
        "failedJobsHistoryLimit": "integer",
    },
    "CronJobStatus": {
        "active": "[ObjectReference]",
        "lastScheduleTime": "Time",
        "lastSuccessfulTime": "Time",
    },
}

# top-level kinds with their apiVersion; all of them are stored, so all have a List kind
KINDS: dict[str, str] = {
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "ControllerRevision": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
}
LISTED_KINDS = tuple(KINDS)

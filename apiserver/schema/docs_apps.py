"""Short descriptions of the apps/v1 and batch/v1 kinds and their main fields, for OpenAPI and
`kubectl explain` (written for kubelite, keyed like `docs.DOCS`: a type name or `Type.field`)."""

from __future__ import annotations

WORKLOAD_DOCS: dict[str, str] = {
    "Deployment": "Deployment rolls a pod template out through ReplicaSets, replacing old pods with new ones "
    "at a controlled pace.",
    "ReplicaSet": "ReplicaSet keeps a given number of pods matching its selector running.",
    "DaemonSet": "DaemonSet runs one copy of a pod on every node its template fits.",
    "StatefulSet": "StatefulSet runs pods with stable names (name-0, name-1 ...) and identities, created and "
    "removed in order.",
    "ControllerRevision": "ControllerRevision is an immutable snapshot of a workload's template, kept for "
    "rollbacks by the DaemonSet and StatefulSet controllers.",
    "Job": "Job runs pods until a given number of them succeed.",
    "CronJob": "CronJob creates Jobs on a cron schedule.",
    "DeploymentSpec": "The desired state of a deployment.",
    "DeploymentSpec.replicas": "How many pods to run; defaults to 1.",
    "DeploymentSpec.selector": "The labels of the pods this deployment manages; must match the template's labels. "
    "Cannot be changed.",
    "DeploymentSpec.template": "The pod each replica is made from.",
    "DeploymentSpec.strategy": "How old pods are replaced by new ones: RollingUpdate (default) or Recreate.",
    "DeploymentSpec.revisionHistoryLimit": "How many old ReplicaSets to keep for rollback; defaults to 10.",
    "DeploymentSpec.progressDeadlineSeconds": "Seconds a rollout may make no progress before it is reported "
    "failed; defaults to 600.",
    "DeploymentSpec.paused": "When true, template changes are not rolled out.",
    "DeploymentStrategy.type": "RollingUpdate or Recreate.",
    "RollingUpdateDeployment.maxUnavailable": "Pods (number or percentage) that may be unavailable during the "
    "update; defaults to 25%.",
    "RollingUpdateDeployment.maxSurge": "Pods (number or percentage) that may exist above the desired count during "
    "the update; defaults to 25%.",
    "ReplicaSetSpec.replicas": "How many pods to run; defaults to 1.",
    "ReplicaSetSpec.selector": "The labels of the pods counted as replicas; must match the template's labels.",
    "DaemonSetSpec.updateStrategy": "How pods are replaced when the template changes: RollingUpdate (default) or "
    "OnDelete.",
    "StatefulSetSpec.serviceName": "The headless service that gives the pods their DNS names.",
    "StatefulSetSpec.podManagementPolicy": "OrderedReady (default: one pod at a time, in order) or Parallel.",
    "StatefulSetSpec.volumeClaimTemplates": "Claims made for each pod, named after it.",
    "JobSpec": "The desired behaviour of a job.",
    "JobSpec.completions": "How many pods must succeed; defaults to 1 when parallelism is unset too.",
    "JobSpec.parallelism": "How many pods may run at once; defaults to 1.",
    "JobSpec.backoffLimit": "Retries before the job is marked failed; defaults to 6.",
    "JobSpec.template": "The pod each run is made from; restartPolicy must be OnFailure or Never.",
    "JobSpec.manualSelector": "When true, the selector and pod labels are the user's instead of generated.",
    "JobSpec.suspend": "When true, no pods are created and running ones are stopped.",
    "JobSpec.ttlSecondsAfterFinished": "Seconds after which a finished job is deleted.",
    "CronJobSpec": "The schedule and template of a cron job.",
    "CronJobSpec.schedule": "When to run, in cron format (minute hour day-of-month month day-of-week).",
    "CronJobSpec.timeZone": "The time zone the schedule is read in; the controller's when unset.",
    "CronJobSpec.concurrencyPolicy": "Allow (default), Forbid or Replace runs that would overlap.",
    "CronJobSpec.jobTemplate": "The job created at each scheduled time.",
    "CronJobSpec.successfulJobsHistoryLimit": "Finished successful jobs to keep; defaults to 3.",
    "CronJobSpec.failedJobsHistoryLimit": "Failed jobs to keep; defaults to 1.",
}

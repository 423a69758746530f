"""Table columns of the workload kinds (apps/v1 and batch/v1) and of core/v1 PodTemplate, as
kube-apiserver prints them (pkg/printers/internalversion: printDeployment, printReplicaSet,
printDaemonSet, printStatefulSet, printJob, printCronJob, printControllerRevision,
printPodTemplate).

The server fills the wide columns too (kubectl hides priority-1 columns without `-o wide`).
Cells as kube computes them: Deployment `Ready` is `ready/desired`, a Job's `Completions` is
`succeeded/completions` (`0/1 of 3` for a work queue with parallelism 3), its `Duration` runs
from startTime to completionTime (or now); a ControllerRevision's `Controller` is
`<kind>.<group>/<name>` of its controller owner; selectors print as kube's selector strings
(`<none>` when empty, but a Deployment prints an empty selector as ""). A PodTemplate has no
Age column: its cells are the template's containers, images and labels (`<none>` when none).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables
from api.humanize import age, format_labels, human_duration
from api.jsonutil import parse_time
from api.selectors import format_label_selector

Obj = dict[str, Any]
Row = list[Any]


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _containers(template: Any) -> list[str]:
    """layoutContainerCells: container names and images, each joined by commas."""
    containers = [
        c for c in _dict(_dict(template).get("spec")).get("containers") or [] if isinstance(c, dict)
    ]
    return [
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
    ]


def _condition_true(status: Obj, kind: str) -> bool:
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond.get("status") == "True"
    return False


def _deployment_row(obj: Obj, now: _dt.datetime) -> Row:
    spec, status = _dict(obj.get("spec")), _dict(obj.get("status"))
    return [
        tables.name_cell(obj),
        f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas'))}",
        _int(status.get("updatedReplicas")),
        _int(status.get("availableReplicas")),
        tables.age_cell(obj, now),
        *_containers(spec.get("template")),
        format_label_selector(spec.get("selector"), empty=""),
    ]


def _replica_set_row(obj: Obj, now: _dt.datetime) -> Row:
    spec, status = _dict(obj.get("spec")), _dict(obj.get("status"))
    return [
        tables.name_cell(obj),
        _int(spec.get("replicas")),
        _int(status.get("replicas")),
        _int(status.get("readyReplicas")),
        tables.age_cell(obj, now),
        *_containers(spec.get("template")),
        format_label_selector(spec.get("selector")),
    ]


def _daemon_set_row(obj: Obj, now: _dt.datetime) -> Row:
    spec, status = _dict(obj.get("spec")), _dict(obj.get("status"))
    node_selector = _dict(_dict(spec.get("template")).get("spec")).get("nodeSelector")
    return [
        tables.name_cell(obj),
        _int(status.get("desiredNumberScheduled")),
        _int(status.get("currentNumberScheduled")),
        _int(status.get("numberReady")),
        _int(status.get("updatedNumberScheduled")),
        _int(status.get("numberAvailable")),
        format_labels(node_selector if isinstance(node_selector, dict) else None),
        tables.age_cell(obj, now),
        *_containers(spec.get("template")),
        format_label_selector(spec.get("selector")),
    ]


def _stateful_set_row(obj: Obj, now: _dt.datetime) -> Row:
    spec, status = _dict(obj.get("spec")), _dict(obj.get("status"))
    return [
        tables.name_cell(obj),
        f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas'))}",
        tables.age_cell(obj, now),
        *_containers(spec.get("template")),
    ]


def job_status_cell(obj: Obj) -> str:
    """The Status column of a Job: its terminal condition, else Terminating, Suspended ... Running."""
    status = _dict(obj.get("status"))
    if _condition_true(status, "Complete"):
        return "Complete"
    if _condition_true(status, "Failed"):
        return "Failed"
    if _dict(obj.get("metadata")).get("deletionTimestamp"):
        return "Terminating"
    for kind in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if _condition_true(status, kind):
            return kind
    return "Running"


def _job_duration(status: Obj, now: _dt.datetime) -> str:
    try:
        if not status.get("startTime"):
            return ""
        start = parse_time(str(status["startTime"]))
        end = parse_time(str(status["completionTime"])) if status.get("completionTime") else now
    except ValueError:
        return ""
    return human_duration((end - start).total_seconds())


def _job_row(obj: Obj, now: _dt.datetime) -> Row:
    spec, status = _dict(obj.get("spec")), _dict(obj.get("status"))
    succeeded = _int(status.get("succeeded"))
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{_int(spec.get('completions'))}"
    elif _int(spec.get("parallelism")) > 1:
        completions = f"{succeeded}/1 of {_int(spec.get('parallelism'))}"
    else:
        completions = f"{succeeded}/1"
    return [
        tables.name_cell(obj),
        job_status_cell(obj),
        completions,
        _job_duration(status, now),
        tables.age_cell(obj, now),
        *_containers(spec.get("template")),
        format_label_selector(spec.get("selector")),
    ]


def _cron_job_row(obj: Obj, now: _dt.datetime) -> Row:
    spec, status = _dict(obj.get("spec")), _dict(obj.get("status"))
    job_spec = _dict(_dict(spec.get("jobTemplate")).get("spec"))
    suspend = spec.get("suspend")
    last = age(status["lastScheduleTime"], now) if status.get("lastScheduleTime") else "<none>"
    return [
        tables.name_cell(obj),
        str(spec.get("schedule") or ""),
        spec.get("timeZone") or "<none>",
        "<unset>" if suspend is None else ("True" if suspend else "False"),
        len(status.get("active") or []),
        last,
        tables.age_cell(obj, now),
        *_containers(job_spec.get("template")),
        format_label_selector(job_spec.get("selector")),
    ]


def controller_cell(obj: Obj) -> str:
    """`statefulset.apps/web` for the controller owner, `<none>` without one."""
    for ref in _dict(obj.get("metadata")).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller") is True:
            group = str(ref.get("apiVersion") or "").rpartition("/")[0]
            kind = str(ref.get("kind") or "")
            qualified = f"{kind}.{group}" if group else kind
            return f"{qualified.lower()}/{ref.get('name', '')}" if qualified else str(ref.get("name", ""))
    return "<none>"


def _controller_revision_row(obj: Obj, now: _dt.datetime) -> Row:
    return [tables.name_cell(obj), controller_cell(obj), _int(obj.get("revision")), tables.age_cell(obj, now)]


_col = tables.column
_CONTAINERS = _col("Containers", "Names of each container in the template.", priority=1)
_IMAGES = _col("Images", "Images referenced by each container in the template.", priority=1)
_NAME, _AGE = tables.NAME_COLUMN, tables.AGE_COLUMN


def _selector_col(doc: str) -> dict[str, Any]:
    return _col("Selector", doc, priority=1)


_LABEL_QUERY = (
    "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones "
    "affected by this deployment."
)

tables.register(
    "deployments",
    [
        _NAME,
        _col("Ready", "Number of the pod with ready state"),
        _col(
            "Up-to-date",
            "Total number of non-terminated pods targeted by this deployment that have the desired "
            "template spec.",
        ),
        _col(
            "Available",
            "Total number of available pods (ready for at least minReadySeconds) targeted by this "
            "deployment.",
        ),
        _AGE,
        _CONTAINERS,
        _IMAGES,
        _selector_col(_LABEL_QUERY),
    ],
    _deployment_row,
)
tables.register(
    "replicasets",
    [
        _NAME,
        _col("Desired", "Replicas is the number of desired replicas.", "integer"),
        _col("Current", "Replicas is the most recently observed number of replicas.", "integer"),
        _col("Ready", "The number of ready replicas for this replica set.", "integer"),
        _AGE,
        _CONTAINERS,
        _IMAGES,
        _selector_col("Selector is a label query over pods that should match the replica count."),
    ],
    _replica_set_row,
)
tables.register(
    "daemonsets",
    [
        _NAME,
        _col("Desired", "The total number of nodes that should be running the daemon pod.", "integer"),
        _col(
            "Current",
            "The number of nodes that are running at least 1 daemon pod and are supposed to run the "
            "daemon pod.",
            "integer",
        ),
        _col(
            "Ready",
            "The number of nodes that should be running the daemon pod and have one or more of the daemon "
            "pod running and ready.",
            "integer",
        ),
        _col("Up-to-date", "The total number of nodes that are running updated daemon pod", "integer"),
        _col(
            "Available",
            "The number of nodes that should be running the daemon pod and have one or more of the "
            "daemon pod running and available (ready for at least spec.minReadySeconds)",
            "integer",
        ),
        _col("Node Selector", "NodeSelector is a selector which must be true for the pod to fit on a node."),
        _AGE,
        _CONTAINERS,
        _IMAGES,
        _selector_col("A label query over pods that are managed by the daemon set."),
    ],
    _daemon_set_row,
)
tables.register(
    "statefulsets",
    [_NAME, _col("Ready", "Number of the pod with ready state"), _AGE, _CONTAINERS, _IMAGES],
    _stateful_set_row,
)
tables.register(
    "jobs",
    [
        _NAME,
        _col("Status", "Status of the job."),
        _col("Completions", "The number of pods which reached phase Succeeded."),
        _col("Duration", "Time required to complete the job."),
        _AGE,
        _CONTAINERS,
        _IMAGES,
        _selector_col("A label query over pods that should match the pod count."),
    ],
    _job_row,
)
tables.register(
    "cronjobs",
    [
        _NAME,
        _col("Schedule", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
        _col(
            "Timezone",
            "The time zone name for the given schedule, see "
            "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.",
        ),
        _col("Suspend", "This flag tells the controller to suspend subsequent executions.", "boolean"),
        _col("Active", "A list of pointers to currently running jobs.", "integer"),
        _col("Last Schedule", "Information when was the last time the job was successfully scheduled."),
        _AGE,
        _CONTAINERS,
        _IMAGES,
        _selector_col("A label query over pods that should match the pod count."),
    ],
    _cron_job_row,
)
tables.register(
    "controllerrevisions",
    [
        _NAME,
        _col("Controller", "Controller of the object"),
        _col("Revision", "Revision indicates the revision of the state represented by Data."),
        _AGE,
    ],
    _controller_revision_row,
)


def _pod_template_row(obj: Obj, now: _dt.datetime) -> Row:
    meta = _dict(_dict(obj.get("template")).get("metadata"))
    labels = meta.get("labels")
    return [
        tables.name_cell(obj),
        *_containers(obj.get("template")),
        format_labels(labels if isinstance(labels, dict) else None),
    ]


tables.register(
    "podtemplates",
    [
        _NAME,
        _col("Containers", "Names of each container in the template."),
        _col("Images", "Images referenced by each container in the template."),
        _col("Pod Labels", "The labels for the pod template."),
    ],
    _pod_template_row,
)

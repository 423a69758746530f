"""What the Job controller reads off its pods, and the pods it makes: pure helpers.

A Job's pods carry the finalizer `batch.kubernetes.io/job-tracking` from creation until the
controller has counted them (their UID first goes to `status.uncountedTerminatedPods`, then
the finalizer comes off, then the UID moves into `succeeded`/`failed`), so a pod deleted by
anyone, even the pod GC, is never lost from the counts. A pod without the finalizer was
counted already. Indexed Jobs' pods carry their completion index in an annotation and a label,
`JOB_COMPLETION_INDEX` through the downward API, and the hostname `<job>-<index>`.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable

from api import jsonutil
from controller.base import Obj, controller_reference, meta
from controller.replicas import owned_pod

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
INDEX_KEY = "batch.kubernetes.io/job-completion-index"
INDEX_ENV = "JOB_COMPLETION_INDEX"
INDEX_FAILURES = "batch.kubernetes.io/job-index-failure-count"
CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"


def phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "Pending")


def is_finished(pod: Obj) -> bool:
    return phase(pod) in ("Succeeded", "Failed")


def is_terminating(pod: Obj) -> bool:
    return bool(meta(pod).get("deletionTimestamp")) and not is_finished(pod)


def is_active(pod: Obj) -> bool:
    return not is_finished(pod) and not meta(pod).get("deletionTimestamp")


def has_finalizer(pod: Obj) -> bool:
    return TRACKING_FINALIZER in (meta(pod).get("finalizers") or [])


def index_of(pod: Obj) -> int | None:
    v = (meta(pod).get("annotations") or {}).get(INDEX_KEY)
    if v is None:
        v = (meta(pod).get("labels") or {}).get(INDEX_KEY)
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None


def finish_time(pod: Obj, now: dt.datetime) -> dt.datetime:
    """When a finished pod finished: its last container's finishedAt, else deletion, else now."""
    latest: dt.datetime | None = None
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        t = ((cs.get("state") or {}).get("terminated") or {}).get("finishedAt")
        if t:
            ts = jsonutil.parse_time(t)
            latest = ts if latest is None or ts > latest else latest
    if latest is None and meta(pod).get("deletionTimestamp"):
        latest = jsonutil.parse_time(meta(pod)["deletionTimestamp"])
    return latest or now


def restarts(pod: Obj) -> int:
    st = pod.get("status") or {}
    return sum(
        int(c.get("restartCount") or 0)
        for c in [*(st.get("containerStatuses") or []), *(st.get("initContainerStatuses") or [])]
    )


def owner_ref(job: Obj) -> Obj:
    return controller_reference(job, "batch/v1", "Job")


def index_failures(pods: list[Obj], ignored: set[str]) -> dict[int, int]:
    """backoffLimitPerIndex: each index's failures so far (a pod carries its predecessors' count)."""
    out: dict[int, int] = {}
    for p in pods:
        i = index_of(p)
        if i is None:
            continue
        try:
            base = int((meta(p).get("annotations") or {}).get(INDEX_FAILURES) or 0)
        except ValueError:
            base = 0
        failed = phase(p) == "Failed" and meta(p).get("uid", "") not in ignored
        out[i] = max(out.get(i, 0), base + (1 if failed else 0))
    return out


def pod_for(job: Obj, index: int | None, index_failures: int | None = None) -> Obj:
    """A new pod of the Job's template (with the completion index for Indexed Jobs)."""
    m = meta(job)
    tmpl = copy.deepcopy((job.get("spec") or {}).get("template") or {})
    tm = tmpl.get("metadata") or {}
    spec = tmpl.get("spec") or {}
    labels = dict(tm.get("labels") or {})
    labels.setdefault(CONTROLLER_UID, m.get("uid", ""))
    labels.setdefault(JOB_NAME, m.get("name", ""))
    labels.setdefault("controller-uid", m.get("uid", ""))
    labels.setdefault("job-name", m.get("name", ""))
    annotations = dict(tm.get("annotations") or {})
    name_prefix = f"{m.get('name')}-"
    if index is not None:
        annotations[INDEX_KEY] = str(index)
        if index_failures is not None:  # backoffLimitPerIndex: the failures this index has had so far
            annotations[INDEX_FAILURES] = str(index_failures)
        labels[INDEX_KEY] = str(index)
        name_prefix = f"{m.get('name')}-{index}-"
        spec.setdefault("hostname", f"{m.get('name')}-{index}")
        ref = {
            "name": INDEX_ENV,
            "valueFrom": {
                "fieldRef": {"apiVersion": "v1", "fieldPath": f"metadata.annotations['{INDEX_KEY}']"}
            },
        }
        for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
            if not any(e.get("name") == INDEX_ENV for e in c.get("env") or []):
                c["env"] = [*(c.get("env") or []), dict(ref)]
    return owned_pod(
        job,
        owner_ref(job),
        labels,
        spec,
        annotations,
        generate_name=name_prefix,
        finalizers=[TRACKING_FINALIZER],
    )


def format_indexes(indexes: Iterable[int]) -> str:
    """`1,3-5,7`: runs of three or more collapse to first-last, as `status.completedIndexes`."""
    xs = sorted(set(indexes))
    out: list[str] = []
    i = 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and xs[j + 1] == xs[j] + 1:
            j += 1
        if j - i >= 2:
            out.append(f"{xs[i]}-{xs[j]}")
        else:
            out.extend(str(x) for x in xs[i : j + 1])
        i = j + 1
    return ",".join(out)


def parse_indexes(text: str | None) -> set[int]:
    out: set[int] = set()
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        a, _, b = part.partition("-")
        try:
            out.update(range(int(a), int(b or a) + 1))
        except ValueError:
            continue
    return out

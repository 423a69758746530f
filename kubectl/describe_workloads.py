"""`kubectl describe` for DaemonSets, StatefulSets, Jobs and CronJobs.

Same writer and layout rules as `kubectl.describe` and `kubectl.describe_apps` (kubectl's
DaemonSetDescriber, StatefulSetDescriber, JobDescriber and CronJobDescriber): each shows its
spec's knobs, its counts from status, the pods it controls by phase (DaemonSet, StatefulSet),
the pod template, and its events; a CronJob shows its job template and active Jobs.
"""

from __future__ import annotations

from api import jsonutil
from api.humanize import human_duration
from kubectl.describe_template import (
    format_selector,
    pod_template_block,
    pods_status_line,
    selector_query,
)
from kubectl.describe_writer import (
    L1,
    Obj,
    Out,
    annotations_block,
    controlled_by_line,
    events_block,
    fetch_events,
    format_labels,
    heading,
    labels_block,
    meta,
    rfc1123z,
)
from kubectl.env import Env


def _bool_ptr(v: object) -> str:
    return "<unset>" if v is None else ("True" if v else "False")


def describe_daemonset(env: Env, ds: Obj) -> str:
    out = Out()
    spec, st = ds.get("spec") or {}, ds.get("status") or {}
    node_selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector")
    heading(
        out,
        ds,
        ("Selector", format_selector(spec.get("selector"))),
        ("Node-Selector", format_labels(node_selector)),
    )
    n = {
        k: int(st.get(k) or 0)
        for k in (
            "desiredNumberScheduled",
            "currentNumberScheduled",
            "updatedNumberScheduled",
            "numberAvailable",
            "numberMisscheduled",
        )
    }
    out.w(f"Desired Number of Nodes Scheduled: {n['desiredNumberScheduled']}")
    out.w(f"Current Number of Nodes Scheduled: {n['currentNumberScheduled']}")
    out.w(f"Number of Nodes Scheduled with Up-to-date Pods: {n['updatedNumberScheduled']}")
    out.w(f"Number of Nodes Scheduled with Available Pods: {n['numberAvailable']}")
    out.w(f"Number of Nodes Misscheduled: {n['numberMisscheduled']}")
    out.w(pods_status_line(env, ds, selector_query(spec.get("selector"))))
    pod_template_block(out, spec.get("template") or {})
    events_block(out, fetch_events(env, ds))
    return out.text()


def describe_statefulset(env: Env, sts: Obj) -> str:
    out, m = Out(), meta(sts)
    spec, st = sts.get("spec") or {}, sts.get("status") or {}
    heading(
        out,
        sts,
        ("CreationTimestamp", rfc1123z(m.get("creationTimestamp"))),
        ("Selector", format_selector(spec.get("selector"))),
    )
    replicas = 1 if spec.get("replicas") is None else int(spec["replicas"])
    out.w(f"Replicas:\t{replicas} desired | {int(st.get('replicas') or 0)} total")
    strategy = spec.get("updateStrategy") or {}
    out.w(f"Update Strategy:\t{strategy.get('type', '')}")
    ru = strategy.get("rollingUpdate")
    if ru is not None and ru.get("partition") is not None:
        out.w(f"{L1}Partition:\t{int(ru['partition'])}")
        if ru.get("maxUnavailable") is not None:
            out.w(f"{L1}MaxUnavailable:\t{ru['maxUnavailable']}")
    out.w(pods_status_line(env, sts, selector_query(spec.get("selector"))))
    pod_template_block(out, spec.get("template") or {})
    claims = spec.get("volumeClaimTemplates") or []
    if not claims:
        out.w("Volume Claims:\t<none>")
    else:
        out.w("Volume Claims:")
        for c in claims:
            cs = c.get("spec") or {}
            out.w(f"{L1}Name:\t{meta(c).get('name')}")
            out.w(f"{L1}StorageClass:\t{cs.get('storageClassName') or ''}")
            labels_block(out, "Labels", meta(c).get("labels"), L1)
            annotations_block(out, meta(c).get("annotations"), L1)
            cap = ((cs.get("resources") or {}).get("requests") or {}).get("storage")
            out.w(f"{L1}Capacity:\t{cap or '<default>'}")
            out.w(f"{L1}Access Modes:\t[{' '.join(cs.get('accessModes') or [])}]")  # Go's %s of a slice
    events_block(out, fetch_events(env, sts))
    return out.text()


def describe_job(env: Env, job: Obj) -> str:
    out = Out()
    spec, st = job.get("spec") or {}, job.get("status") or {}
    heading(out, job, ("Selector", format_selector(spec.get("selector"))))
    controlled_by_line(out, job)
    if spec.get("parallelism") is not None:
        out.w(f"Parallelism:\t{int(spec['parallelism'])}")
    out.w(f"Completions:\t{spec['completions'] if spec.get('completions') is not None else '<unset>'}")
    if spec.get("completionMode"):
        out.w(f"Completion Mode:\t{spec['completionMode']}")
    if spec.get("suspend") is not None:
        out.w(f"Suspend:\t{'true' if spec['suspend'] else 'false'}")
    if spec.get("backoffLimit") is not None:
        out.w(f"Backoff Limit:\t{spec['backoffLimit']}")
    if spec.get("ttlSecondsAfterFinished") is not None:
        out.w(f"TTL Seconds After Finished:\t{spec['ttlSecondsAfterFinished']}")
    if st.get("startTime"):
        out.w(f"Start Time:\t{rfc1123z(st['startTime'])}")
    if st.get("completionTime"):
        out.w(f"Completed At:\t{rfc1123z(st['completionTime'])}")
    if st.get("startTime") and st.get("completionTime"):
        took = jsonutil.parse_time(st["completionTime"]) - jsonutil.parse_time(st["startTime"])
        out.w(f"Duration:\t{human_duration(took.total_seconds())}")
    if spec.get("activeDeadlineSeconds") is not None:
        out.w(f"Active Deadline Seconds:\t{spec['activeDeadlineSeconds']}s")
    counts = (int(st.get("active") or 0), int(st.get("succeeded") or 0), int(st.get("failed") or 0))
    if st.get("ready") is None:
        out.w(f"Pods Statuses:\t{counts[0]} Active / {counts[1]} Succeeded / {counts[2]} Failed")
    else:
        out.w(
            f"Pods Statuses:\t{counts[0]} Active ({int(st['ready'])} Ready) / {counts[1]} Succeeded / "
            f"{counts[2]} Failed"
        )
    if spec.get("completionMode") == "Indexed":
        out.w(f"Completed Indexes:\t{_cap_indexes(st.get('completedIndexes') or '')}")
    pod_template_block(out, spec.get("template") or {})
    events_block(out, fetch_events(env, job))
    return out.text()


def _cap_indexes(text: str, limit: int = 50) -> str:
    """capIndexesListOrNone: `<none>`, or the list cut after `limit` characters at a comma, with `...`."""
    if not text:
        return "<none>"
    if len(text) <= limit:
        return text
    cut = text[:limit].rfind(",")
    return text[:cut] + ",..." if cut > 0 else text[:limit] + "..."


def describe_cronjob(env: Env, cj: Obj) -> str:
    out = Out()
    spec, st = cj.get("spec") or {}, cj.get("status") or {}
    heading(out, cj)
    out.w(f"Schedule:\t{spec.get('schedule', '')}")
    out.w(f"Concurrency Policy:\t{spec.get('concurrencyPolicy', '')}")
    out.w(f"Suspend:\t{_bool_ptr(spec.get('suspend'))}")
    for key, title in (
        ("successfulJobsHistoryLimit", "Successful Job History Limit"),
        ("failedJobsHistoryLimit", "Failed Job History Limit"),
    ):
        out.w(f"{title}:\t{spec[key] if spec.get(key) is not None else '<unset>'}")
    sds = spec.get("startingDeadlineSeconds")
    out.w(f"Starting Deadline Seconds:\t{f'{sds}s' if sds is not None else '<unset>'}")
    jt = (spec.get("jobTemplate") or {}).get("spec") or {}
    out.w(f"Selector:\t{format_selector(jt['selector']) if jt.get('selector') is not None else '<unset>'}")
    for key, title in (("parallelism", "Parallelism"), ("completions", "Completions")):
        out.w(f"{title}:\t{jt[key] if jt.get(key) is not None else '<unset>'}")
    if jt.get("activeDeadlineSeconds") is not None:
        out.w(f"Active Deadline Seconds:\t{jt['activeDeadlineSeconds']}s")
    pod_template_block(out, jt.get("template") or {})
    last = st.get("lastScheduleTime")
    out.w(f"Last Schedule Time:\t{rfc1123z(last) if last else '<unset>'}")
    active = [str(r.get("name")) for r in st.get("active") or []]
    out.w(f"Active Jobs:\t{', '.join(active) or '<none>'}")
    events_block(out, fetch_events(env, cj))
    return out.text()

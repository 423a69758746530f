"""The blocks `kubectl describe` prints for every pod controller: its selector, its pods by phase and
its pod template.

ReplicationControllers, ReplicaSets, Deployments, DaemonSets, StatefulSets, Jobs and CronJobs (and
`kubectl rollout history --revision`) print these the same way, because kubectl's describers call
the same functions for them (FormatLabelSelector, getPodStatusForController, DescribePodTemplate);
they live here once so the describers and the rollout verb share them without importing each other.
"""

from __future__ import annotations

from api.errors import ApiError
from api.selectors import format_label_selector
from kubectl.describe_writer import (
    L1,
    Obj,
    Out,
    annotations_block,
    containers_block,
    format_labels,
    labels_block,
    meta,
    tolerations_block,
    volumes_block,
)
from kubectl.env import Env


def format_selector(sel: Obj | None) -> str:
    """metav1.FormatLabelSelector: `k=v`, `k in (a,b)`, `k`, `!k`, sorted by key; `<none>` if empty,
    `<error>` for an operator kube does not know."""
    return format_label_selector(sel)


def selector_query(sel: Obj | None) -> str | None:
    """The `labelSelector` query for a LabelSelector, as kubectl sends it (none for an empty one)."""
    return format_selector(sel).replace("<none>", "") or None


def pods_status_line(env: Env, o: Obj, selector: str | None) -> str:
    """getPodStatusForController: the pods among the selector's whose controller is `o`, by phase
    (orphans and other controllers' pods are skipped)."""
    counts = {"Running": 0, "Pending": 0, "Succeeded": 0, "Failed": 0}
    m = meta(o)
    try:
        pods = env.client.list("pods", m.get("namespace"), label_selector=selector).get("items") or []
    except ApiError:
        pods = []
    for p in pods:
        if any(
            r.get("controller") and r.get("uid") == m.get("uid") for r in meta(p).get("ownerReferences") or []
        ):
            phase = (p.get("status") or {}).get("phase") or "Pending"
            counts[phase] = counts.get(phase, 0) + 1
    return (
        f"Pods Status:\t{counts['Running']} Running / {counts['Pending']} Waiting / {counts['Succeeded']} "
        f"Succeeded / {counts['Failed']} Failed"
    )


def pod_template_block(out: Out, template: Obj) -> None:
    """DescribePodTemplate."""
    tspec = template.get("spec") or {}
    out.w("Pod Template:")
    labels_block(out, "Labels", meta(template).get("labels"), L1)
    if meta(template).get("annotations"):
        annotations_block(out, meta(template).get("annotations"), L1)
    if tspec.get("serviceAccountName"):
        out.w(f"{L1}Service Account:\t{tspec['serviceAccountName']}")
    if tspec.get("initContainers"):
        containers_block(out, "Init Containers", tspec["initContainers"], None, " ", L1)
    containers_block(out, "Containers", tspec.get("containers") or [], None, " ", L1)
    volumes_block(out, tspec.get("volumes"), L1)
    out.w(f"{L1}Node-Selectors:\t{format_labels(tspec.get('nodeSelector'))}")
    tolerations_block(out, tspec.get("tolerations"), L1)

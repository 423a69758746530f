"""Pure rules of `kubectl rollout`: status messages, history rows, what `undo` patches.

Worded as kubectl's polymorphichelpers word them (rollout_status.go, history.go, rollback.go),
on plain dicts, so each message is unit-tested without a server. A Deployment's history is its
ReplicaSets (the `deployment.kubernetes.io/revision` annotation); a DaemonSet's or
StatefulSet's is its ControllerRevisions (`revision` field, `data` a strategic patch that
restores the template). Undo of a Deployment is client-side, as modern kubectl does it: a JSON
patch replacing the Deployment's template (hash label removed) and annotations with the old
ReplicaSet's; undo of the others applies the revision's `data` as a strategic merge patch.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from controller.deployment_util import HASH_LABEL, REVISION, equal_ignore_hash

Obj = dict[str, Any]

CHANGE_CAUSE = "kubernetes.io/change-cause"
SKIP_ANNOTATIONS = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)


class RolloutError(Exception):
    """A failure kubectl reports as `error: <message>`."""


def _m(o: Obj) -> Obj:
    return o.get("metadata") or {}


def _n(o: Obj, section: str, name: str) -> int:
    return int((o.get(section) or {}).get(name) or 0)


def _replicas(o: Obj) -> int:
    v = (o.get("spec") or {}).get("replicas")
    return 1 if v is None else int(v)


def deployment_status(d: Obj) -> tuple[str, bool]:
    name, st = _m(d).get("name"), d.get("status") or {}
    if int(_m(d).get("generation") or 0) > int(st.get("observedGeneration") or 0):
        return "Waiting for deployment spec update to be observed...\n", False
    cond = next((c for c in st.get("conditions") or [] if c.get("type") == "Progressing"), None)
    if cond is not None and cond.get("reason") == "ProgressDeadlineExceeded":
        raise RolloutError(f'deployment "{name}" exceeded its progress deadline')
    want, updated = _replicas(d), _n(d, "status", "updatedReplicas")
    if updated < want:
        return (
            f'Waiting for deployment "{name}" rollout to finish: {updated} out of {want} new replicas '
            "have been updated...\n"
        ), False
    total = _n(d, "status", "replicas")
    if total > updated:
        return (
            f'Waiting for deployment "{name}" rollout to finish: {total - updated} old replicas are '
            "pending termination...\n"
        ), False
    available = _n(d, "status", "availableReplicas")
    if available < updated:
        return (
            f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} updated replicas '
            "are available...\n"
        ), False
    return f'deployment "{name}" successfully rolled out\n', True


def daemonset_status(ds: Obj) -> tuple[str, bool]:
    name, st = _m(ds).get("name"), ds.get("status") or {}
    if ((ds.get("spec") or {}).get("updateStrategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
        raise RolloutError("rollout status is only available for RollingUpdate strategy type")
    if int(_m(ds).get("generation") or 0) > int(st.get("observedGeneration") or 0):
        return "Waiting for daemon set spec update to be observed...\n", False
    desired, updated = _n(ds, "status", "desiredNumberScheduled"), _n(ds, "status", "updatedNumberScheduled")
    if updated < desired:
        return (
            f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {desired} new pods '
            "have been updated...\n"
        ), False
    available = _n(ds, "status", "numberAvailable")
    if available < desired:
        return (
            f'Waiting for daemon set "{name}" rollout to finish: {available} of {desired} updated pods '
            "are available...\n"
        ), False
    return f'daemon set "{name}" successfully rolled out\n', True


def statefulset_status(sts: Obj) -> tuple[str, bool]:
    spec, st = sts.get("spec") or {}, sts.get("status") or {}
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        raise RolloutError("rollout status is only available for RollingUpdate strategy type")
    observed = int(st.get("observedGeneration") or 0)
    if observed == 0 or int(_m(sts).get("generation") or 0) > observed:
        return "Waiting for statefulset spec update to be observed...\n", False
    want, ready = _replicas(sts), _n(sts, "status", "readyReplicas")
    if ready < want:
        return f"Waiting for {want - ready} pods to be ready...\n", False
    updated = _n(sts, "status", "updatedReplicas")
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        partition = rolling.get("partition")
        if partition is not None and updated < want - int(partition):
            return (
                f"Waiting for partitioned roll out to finish: {updated} out of {want - int(partition)} new pods "
                "have been updated...\n"
            ), False
        return f"partitioned roll out complete: {updated} new pods have been updated...\n", True
    if st.get("updateRevision") != st.get("currentRevision"):
        return (
            f"waiting for statefulset rolling update to complete {updated} pods at revision "
            f"{st.get('updateRevision')}...\n"
        ), False
    return (
        f"statefulset rolling update complete {_n(sts, 'status', 'currentReplicas')} pods at revision "
        f"{st.get('currentRevision')}...\n"
    ), True


STATUS = {"Deployment": deployment_status, "DaemonSet": daemonset_status, "StatefulSet": statefulset_status}


def rs_revision(rs: Obj) -> int:
    try:
        return int((_m(rs).get("annotations") or {}).get(REVISION) or 0)
    except ValueError:
        return 0


def controlled_by(owner: Obj, objs: Sequence[Obj]) -> list[Obj]:
    uid = _m(owner).get("uid")
    return [
        o
        for o in objs
        if any(r.get("controller") and r.get("uid") == uid for r in _m(o).get("ownerReferences") or [])
    ]


def history_of(kind: str, owned: Sequence[Obj]) -> dict[int, Obj]:
    """revision -> the ReplicaSet or ControllerRevision that holds it."""
    if kind == "Deployment":
        return {rs_revision(r): r for r in owned}
    return {int(r.get("revision") or 0): r for r in owned}


def history_table(history: dict[int, Obj]) -> str:
    """The REVISION / CHANGE-CAUSE table (tabwriter minwidth 0, padding 2)."""
    if not history:
        return "No rollout history found."
    rows = [("REVISION", "CHANGE-CAUSE")]
    for rev in sorted(history):
        cause = (_m(history[rev]).get("annotations") or {}).get(CHANGE_CAUSE) or "<none>"
        rows.append((str(rev), cause))
    width = max(len(r[0]) for r in rows) + 2
    return "".join(f"{a.ljust(width)}{b}\n" for a, b in rows)


def template_of(kind: str, item: Obj, shown: bool = False) -> Obj:
    """The pod template a history item holds (`shown`: as `history --revision` prints it)."""
    if kind == "Deployment":  # the ReplicaSet's change-cause shows as the template's (history.go)
        tmpl = copy.deepcopy((item.get("spec") or {}).get("template") or {})
        cause = (_m(item).get("annotations") or {}).get(CHANGE_CAUSE)
        if cause and shown:
            tmpl.setdefault("metadata", {}).setdefault("annotations", {})[CHANGE_CAUSE] = cause
        return tmpl
    tmpl = copy.deepcopy((((item.get("data") or {}).get("spec") or {}).get("template")) or {})
    tmpl.pop("$patch", None)
    return tmpl


def undo_target(kind: str, name: str, history: dict[int, Obj], to_revision: int) -> Obj:
    """The history item to go back to: --to-revision, or the one before the newest."""
    if to_revision < 0 or (to_revision > 0 and to_revision not in history):
        raise RolloutError(f"unable to find specified revision {to_revision} in history")
    if to_revision > 0:
        return history[to_revision]
    revs = sorted(r for r in history if kind != "Deployment" or r > 0)
    if len(revs) < 2:
        if kind == "Deployment":
            raise RolloutError(f'no rollout history found for deployment "{name}"')
        raise RolloutError("no last revision to roll back to")
    return history[revs[-2]]


def matches_current(kind: str, obj: Obj, item: Obj) -> bool:
    current = (obj.get("spec") or {}).get("template") or {}
    return equal_ignore_hash(template_of(kind, item), current)


def deployment_undo_patch(d: Obj, rs: Obj) -> list[Obj]:
    """The JSON patch kubectl sends: the old template (no hash label) and the annotations to restore."""
    tmpl = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
    # kubectl sends the typed template, whose metadata always carries creationTimestamp: null
    tmpl["metadata"] = {"creationTimestamp": None, **(tmpl.get("metadata") or {})}
    labels = (tmpl.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(HASH_LABEL, None)
    current = _m(d).get("annotations") or {}
    annotations = {k: v for k, v in current.items() if k in SKIP_ANNOTATIONS}
    annotations.update(
        {k: v for k, v in (_m(rs).get("annotations") or {}).items() if k not in SKIP_ANNOTATIONS}
    )
    return [
        {"op": "replace", "path": "/spec/template", "value": tmpl},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]

"""Rows of the apps/v1 kinds: what kube's registry strategies for Deployments, ReplicaSets,
DaemonSets, StatefulSets and ControllerRevisions do, as data over pure functions.

Defaults are k8s.io/kubernetes pkg/apis/apps/v1/defaults.go plus the pod template's own
(`apiserver.defaults.pod_spec_defaults`); PrepareForCreate resets status to the zero status as
kube serialises it (`ReplicaSetStatus{}` is `{"replicas": 0}`: that field has no omitempty, and
the Python client requires it); validation is `apiserver.validation.apps`. Every kind but
ControllerRevision counts generation and writes status only through /status; a Deployment's
generation also moves when its annotations change (they are copied to its ReplicaSets), and a
DaemonSet keeps kube's `deprecated.daemonset.template.generation` annotation.
"""

from __future__ import annotations

from typing import Any

from api.names import is_dns1123_label
from api.resources import by_plural
from apiserver.defaults import drop_false, template_defaults
from apiserver.kinds import KindStrategy, Obj, register
from apiserver.validation import apps as v
from apiserver.validation.podwarnings import template_warnings
from apiserver.validation.workloads import selector_string

TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"


def _row(plural: str, **kw: Any) -> KindStrategy:
    res = by_plural("apps", plural)
    assert res is not None, plural
    return register(KindStrategy(res, **kw))


def _child(obj: Obj, key: str) -> Obj | None:
    """obj[key] to default (created when missing, as Go's zero struct is); None if not an object."""
    if obj.get(key) is None:
        obj[key] = {}
    child = obj[key]
    return child if isinstance(child, dict) else None


def _unset(obj: Obj, **defaults: Any) -> None:
    """Set each field that is missing or null to its default."""
    for k, val in defaults.items():
        if obj.get(k) is None:
            obj[k] = val


def _rolling_strategy(spec: Obj, field: str, **defaults: Any) -> None:
    """spec.<field> (a Deployment's strategy, a DaemonSet's updateStrategy): type RollingUpdate when
    unset, and then the rollingUpdate defaults."""
    strategy = _child(spec, field)
    if strategy is None:
        return
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate" and (ru := _child(strategy, "rollingUpdate")) is not None:
        _unset(ru, **defaults)


def _scale_selector(obj: Obj) -> str:
    spec = obj.get("spec")
    return selector_string((spec if isinstance(spec, dict) else {}).get("selector"))


def _reset_status(status: Obj) -> Any:
    def prepare(obj: Obj) -> None:
        obj["status"] = dict(status)

    return prepare


# --- Deployment -----------------------------------------------------------------------------------


def default_deployment(obj: Obj) -> None:
    spec = _child(obj, "spec")
    if spec is None:
        return
    _unset(spec, replicas=1)
    drop_false(spec, "paused")
    _rolling_strategy(spec, "strategy", maxUnavailable="25%", maxSurge="25%")
    _unset(spec, revisionHistoryLimit=10, progressDeadlineSeconds=600)
    template_defaults(spec)


def _deployment_update(new: Obj, old: Obj) -> None:
    """Annotation changes count as a new generation too (kube: they are copied to the ReplicaSets)."""
    meta, old_meta = new.get("metadata") or {}, old.get("metadata") or {}
    if (meta.get("annotations") or {}) != (old_meta.get("annotations") or {}):
        meta["generation"] = int(old_meta.get("generation") or 1) + 1


_row(
    "deployments",
    warnings=template_warnings("spec", "template"),
    status_separate=True,
    generation=True,
    status_metadata=frozenset({"annotations"}),
    prepare_create=_reset_status({}),
    prepare_update=_deployment_update,
    defaults=default_deployment,
    validate=v.validate_deployment,
    validate_update=v.validate_selector_update,
    validate_status=v.status_validator("Deployment"),
    scale_selector=_scale_selector,
)


# --- ReplicaSet -----------------------------------------------------------------------------------


def default_replica_set(obj: Obj) -> None:
    spec = _child(obj, "spec")
    if spec is None:
        return
    _unset(spec, replicas=1)
    template_defaults(spec)


_row(
    "replicasets",
    warnings=template_warnings("spec", "template"),
    status_separate=True,
    generation=True,
    prepare_create=_reset_status({"replicas": 0}),
    defaults=default_replica_set,
    validate=v.validate_replica_set,
    validate_update=v.validate_selector_update,
    validate_status=v.status_validator("ReplicaSet"),
    field_paths=frozenset({"status.replicas"}),
    scale_selector=_scale_selector,
)


# --- DaemonSet ------------------------------------------------------------------------------------


def default_daemon_set(obj: Obj) -> None:
    spec = _child(obj, "spec")
    if spec is None:
        return
    _rolling_strategy(spec, "updateStrategy", maxUnavailable=1, maxSurge=0)
    _unset(spec, revisionHistoryLimit=10)
    template_defaults(spec)


_DS_STATUS = {
    "currentNumberScheduled": 0,
    "numberMisscheduled": 0,
    "desiredNumberScheduled": 0,
    "numberReady": 0,
}


def _daemon_set_create(obj: Obj) -> None:
    obj["status"] = dict(_DS_STATUS)
    meta = obj.setdefault("metadata", {})
    meta["annotations"] = {**(meta.get("annotations") or {}), TEMPLATE_GENERATION: "1"}


def _daemon_set_update(new: Obj, old: Obj) -> None:
    """The template generation is the server's: kept from the old object, +1 when the template changes."""
    old_ann = (old.get("metadata") or {}).get("annotations") or {}
    try:
        generation = int(old_ann.get(TEMPLATE_GENERATION) or 0)
    except ValueError:
        generation = 0
    if (new.get("spec") or {}).get("template") != (old.get("spec") or {}).get("template"):
        generation += 1
    meta = new.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    if generation:
        annotations[TEMPLATE_GENERATION] = str(generation)
    else:
        annotations.pop(TEMPLATE_GENERATION, None)
    meta["annotations"] = annotations


_row(
    "daemonsets",
    warnings=template_warnings("spec", "template"),
    status_separate=True,
    generation=True,
    prepare_create=_daemon_set_create,
    prepare_update=_daemon_set_update,
    defaults=default_daemon_set,
    validate=v.validate_daemon_set,
    validate_update=v.validate_selector_update,
    validate_status=v.status_validator("DaemonSet"),
)


# --- StatefulSet ----------------------------------------------------------------------------------


def default_stateful_set(obj: Obj) -> None:
    spec = _child(obj, "spec")
    if spec is None:
        return
    if not spec.get("podManagementPolicy"):
        spec["podManagementPolicy"] = "OrderedReady"
    strategy = _child(spec, "updateStrategy")
    if strategy is not None:
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
            if strategy.get("rollingUpdate") is None:
                strategy["rollingUpdate"] = {}
        ru = strategy.get("rollingUpdate")
        if strategy["type"] == "RollingUpdate" and isinstance(ru, dict) and ru.get("partition") is None:
            ru["partition"] = 0
    policy = _child(spec, "persistentVolumeClaimRetentionPolicy")
    if policy is not None:
        for key in ("whenDeleted", "whenScaled"):
            if not policy.get(key):
                policy[key] = "Retain"
    _unset(spec, replicas=1, revisionHistoryLimit=10)
    template_defaults(spec)
    for claim in spec.get("volumeClaimTemplates") or []:
        _claim_template_defaults(claim)


def _claim_template_defaults(claim: Any) -> None:
    """An embedded PersistentVolumeClaim is defaulted as a stored one would be (kube shows them
    with their apiVersion and kind, volumeMode Filesystem and phase Pending)."""
    if not isinstance(claim, dict):
        return
    claim.setdefault("apiVersion", "v1")
    claim.setdefault("kind", "PersistentVolumeClaim")
    claim_spec = claim.get("spec")
    if isinstance(claim_spec, dict) and not claim_spec.get("volumeMode"):
        claim_spec["volumeMode"] = "Filesystem"
    status = claim.setdefault("status", {})
    if isinstance(status, dict) and not status.get("phase"):
        status["phase"] = "Pending"


_row(
    "statefulsets",
    warnings=template_warnings("spec", "template"),
    name_rule=is_dns1123_label,
    status_separate=True,
    generation=True,
    prepare_create=_reset_status({"replicas": 0, "availableReplicas": 0}),
    defaults=default_stateful_set,
    validate=v.validate_stateful_set,
    validate_update=v.validate_stateful_set_update,
    validate_status=v.status_validator("StatefulSet"),
    scale_selector=_scale_selector,
)


# --- ControllerRevision ---------------------------------------------------------------------------

_row(
    "controllerrevisions",
    validate=v.validate_controller_revision,
    validate_update=v.validate_controller_revision_update,
)

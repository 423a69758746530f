"""Validation of the apps/v1 kinds: Deployment, ReplicaSet, DaemonSet, StatefulSet and
ControllerRevision, with kube-apiserver's rules and wording (pkg/apis/apps/validation and the
registry strategies' ValidateUpdate: the selector is immutable in apps/v1).

Runs after defaulting, as kube validates the defaulted internal object: a Deployment without a
strategy already has RollingUpdate 25%/25% here. The shared pieces (selectors, templates, Go
value rendering) are in `workloads`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.errors import Cause, field_forbidden, field_invalid, field_not_supported, field_required
from api.jsonutil import as_object
from apiserver.validation.meta import non_negative, validate_annotations, validate_labels
from apiserver.validation.workloads import (
    go_int_or_string,
    go_selector,
    go_string_map,
    immutable_selector,
    int_or_percent_value,
    invalid_raw,
    selector_parses,
    semantic,
    template_labels_match,
    validate_int_or_percent,
    validate_required_selector,
    validate_template,
)

Obj = dict[str, Any]
ALWAYS = ["Always"]
STS_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)
STS_UPDATE_FORBIDDEN = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
    "'minReadySeconds' are forbidden"
)


def _spec(obj: Obj) -> Obj:
    return as_object(obj.get("spec"))


def _go_strategy(type_name: str, strategy: Obj, rolling: str) -> str:
    ru = "nil" if strategy.get("rollingUpdate") is None else "0xc000000000"
    return f'apps.{type_name}{{Type:"{strategy.get("type", "")}", RollingUpdate:(*apps.{rolling})({ru})}}'


def _replica_set_template(spec: Obj, kind: str = "ReplicaSet") -> list[Cause]:
    """ValidatePodTemplateSpecForReplicaSet, reached when the selector parses or is missing (a
    missing selector is kube's Nothing selector: it matches no labels)."""
    sel = spec.get("selector")
    if sel is not None and not selector_parses(sel):
        return [invalid_raw("spec.selector", go_selector(sel), "invalid label selector")]
    template = spec.get("template")
    if not isinstance(template, dict):
        return [field_required("spec.template")]
    return _labels_match(sel, template) + validate_template(template, "spec.template", ALWAYS, kind)


def _labels_match(sel: Any, template: Obj) -> list[Cause]:
    if sel is None:
        shown = go_string_map(as_object(template.get("metadata")).get("labels"))
        return [
            invalid_raw("spec.template.metadata.labels", shown, "`selector` does not match template `labels`")
        ]
    return template_labels_match(sel, template, "spec.template")


# --- Deployment -----------------------------------------------------------------------------------


def _rolling_update_deployment(ru: Obj, path: str) -> list[Cause]:
    mu, ms = ru.get("maxUnavailable"), ru.get("maxSurge")
    causes = validate_int_or_percent(mu, f"{path}.maxUnavailable", at_most_100=False)
    causes += validate_int_or_percent(ms, f"{path}.maxSurge", at_most_100=False)
    if int_or_percent_value(mu) == 0 and int_or_percent_value(ms) == 0:
        causes.append(
            invalid_raw(f"{path}.maxUnavailable", go_int_or_string(mu), "may not be 0 when `maxSurge` is 0")
        )
    return causes + validate_int_or_percent(mu, f"{path}.maxUnavailable", only_100=True)


def validate_deployment(obj: Obj) -> list[Cause]:
    spec = _spec(obj)
    causes = non_negative("spec.replicas", spec.get("replicas"))
    causes += validate_required_selector(spec, "deployment")
    causes += _replica_set_template(spec)
    strategy = as_object(spec.get("strategy"))
    kind = strategy.get("type")
    if kind == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            causes.append(
                field_forbidden(
                    "spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"
                )
            )
    elif kind == "RollingUpdate":
        if strategy.get("rollingUpdate") is None:
            causes.append(
                field_required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil")
            )
        else:
            causes += _rolling_update_deployment(
                as_object(strategy["rollingUpdate"]), "spec.strategy.rollingUpdate"
            )
    else:
        shown = _go_strategy("DeploymentStrategy", strategy, "RollingUpdateDeployment")
        causes.append(
            {
                "reason": "FieldValueNotSupported",
                "field": "spec.strategy",
                "message": f'Unsupported value: {shown}: supported values: "Recreate", "RollingUpdate"',
            }
        )
    causes += non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
    causes += non_negative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))
    deadline = spec.get("progressDeadlineSeconds")
    if isinstance(deadline, int):
        causes += non_negative("spec.progressDeadlineSeconds", deadline)
        if deadline <= (spec.get("minReadySeconds") or 0):
            causes.append(
                field_invalid(
                    "spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"
                )
            )
    return causes


def validate_selector_update(new: Obj, old: Obj) -> list[Cause]:
    return immutable_selector(new, old)


# --- ReplicaSet -----------------------------------------------------------------------------------


def validate_replica_set(obj: Obj) -> list[Cause]:
    spec = _spec(obj)
    causes = non_negative("spec.replicas", spec.get("replicas"))
    causes += non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
    causes += validate_required_selector(spec, "deployment")  # sic: kube says "deployment" for replica sets
    return causes + _replica_set_template(spec)


# --- DaemonSet ------------------------------------------------------------------------------------


def _rolling_update_daemon_set(ru: Obj, path: str) -> list[Cause]:
    mu, ms = ru.get("maxUnavailable"), ru.get("maxSurge")
    causes = validate_int_or_percent(mu, f"{path}.maxUnavailable", at_most_100=False)
    causes += validate_int_or_percent(ms, f"{path}.maxSurge", at_most_100=False)
    causes += validate_int_or_percent(mu, f"{path}.maxUnavailable", only_100=True)
    causes += validate_int_or_percent(ms, f"{path}.maxSurge", only_100=True)
    has_unavailable, has_surge = int_or_percent_value(mu) != 0, int_or_percent_value(ms) != 0
    if has_unavailable and has_surge:
        causes.append(
            invalid_raw(
                f"{path}.maxSurge", go_int_or_string(ms), "may not be set when maxUnavailable is non-zero"
            )
        )
    elif not has_unavailable and not has_surge:
        causes.append(field_required(f"{path}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    return causes


def validate_daemon_set(obj: Obj) -> list[Cause]:
    spec = _spec(obj)
    # kube does not require a DaemonSet's selector: a missing one is the Nothing selector, which
    # only fails to match the template's labels below
    sel = spec.get("selector")
    causes = validate_required_selector(spec, "daemonset") if sel is not None else []
    template = spec.get("template")
    if not isinstance(template, dict):
        return [*causes, field_required("spec.template")]
    causes += _labels_match(spec.get("selector"), template)
    causes += validate_template(template, "spec.template", ALWAYS, "DaemonSet")
    causes += non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
    strategy = as_object(spec.get("updateStrategy"))
    kind = strategy.get("type")
    if kind == "RollingUpdate":
        if strategy.get("rollingUpdate") is None:
            causes.append(field_required("spec.updateStrategy.rollingUpdate"))
        else:
            causes += _rolling_update_daemon_set(
                as_object(strategy["rollingUpdate"]), "spec.updateStrategy.rollingUpdate"
            )
    elif kind != "OnDelete":
        shown = _go_strategy("DaemonSetUpdateStrategy", strategy, "RollingUpdateDaemonSet")
        causes.append(
            {
                "reason": "FieldValueNotSupported",
                "field": "spec.updateStrategy",
                "message": f'Unsupported value: {shown}: supported values: "RollingUpdate", "OnDelete"',
            }
        )
    return causes + non_negative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))


# --- StatefulSet ----------------------------------------------------------------------------------


def validate_stateful_set(obj: Obj) -> list[Cause]:
    spec = _spec(obj)
    causes: list[Cause] = []
    policy = spec.get("podManagementPolicy")
    if not policy:
        causes.append(field_required("spec.podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        causes.append(
            field_invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'")
        )
    strategy = as_object(spec.get("updateStrategy"))
    kind, ru = strategy.get("type"), strategy.get("rollingUpdate")
    shown = _go_strategy("StatefulSetUpdateStrategy", strategy, "RollingUpdateStatefulSetStrategy")
    if not kind:
        causes.append(field_required("spec.updateStrategy"))
    elif kind == "OnDelete":
        if ru is not None:
            causes.append(
                invalid_raw(
                    "spec.updateStrategy.rollingUpdate",
                    "apps.RollingUpdateStatefulSetStrategy{}",
                    "only allowed for updateStrategy 'RollingUpdate'",
                )
            )
    elif kind == "RollingUpdate":
        if isinstance(ru, dict):
            path = "spec.updateStrategy.rollingUpdate"
            causes += non_negative(f"{path}.partition", ru.get("partition"))
            mu = ru.get("maxUnavailable")
            if mu is not None:
                causes += validate_int_or_percent(mu, f"{path}.maxUnavailable", at_most_100=False)
                if int_or_percent_value(mu) == 0:
                    causes.append(invalid_raw(f"{path}.maxUnavailable", go_int_or_string(mu), "cannot be 0"))
                causes += validate_int_or_percent(mu, f"{path}.maxUnavailable", only_100=True)
    else:
        causes.append(invalid_raw("spec.updateStrategy", shown, "must be 'RollingUpdate' or 'OnDelete'"))
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if isinstance(retention, dict):
        for key in ("whenDeleted", "whenScaled"):
            if retention.get(key) not in ("Retain", "Delete"):
                causes.append(
                    field_not_supported(
                        f"spec.persistentVolumeClaimRetentionPolicy.{key}",
                        retention.get(key) or "",
                        ["Retain", "Delete"],
                    )
                )
    causes += non_negative("spec.replicas", spec.get("replicas"))
    causes += non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
    causes += non_negative("spec.ordinals.start", as_object(spec.get("ordinals")).get("start"))
    causes += validate_required_selector(spec, "statefulset")
    sel = spec.get("selector")
    template = as_object(spec.get("template"))
    if sel is not None and not selector_parses(sel):
        causes.append(invalid_raw("spec.selector", go_selector(sel), ""))
    else:
        causes += _labels_match(sel, template)
        meta = as_object(template.get("metadata"))
        causes += validate_labels(meta.get("labels"), "spec.template.labels")  # sic: kube's path
        causes += validate_annotations(meta.get("annotations"), "spec.template.annotations")
    tspec = as_object(template.get("spec"))
    if tspec.get("restartPolicy") != "Always":
        causes.append(
            field_not_supported("spec.template.spec.restartPolicy", tspec.get("restartPolicy") or "", ALWAYS)
        )
    if tspec.get("activeDeadlineSeconds") is not None:
        causes.append(
            field_forbidden(
                "spec.template.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in StatefulSet is not Supported",
            )
        )
    return causes


def validate_stateful_set_update(new: Obj, old: Obj) -> list[Cause]:
    a = {k: v for k, v in _spec(new).items() if k not in STS_MUTABLE}
    b = {k: v for k, v in _spec(old).items() if k not in STS_MUTABLE}
    if semantic(a) != semantic(b):
        return [field_forbidden("spec", STS_UPDATE_FORBIDDEN)]
    return []


# --- ControllerRevision ---------------------------------------------------------------------------


def validate_controller_revision(obj: Obj) -> list[Cause]:
    causes = [field_required("data", "data is mandatory")] if obj.get("data") is None else []
    return causes + non_negative("revision", obj.get("revision"))


def validate_controller_revision_update(new: Obj, old: Obj) -> list[Cause]:
    if new.get("data") != old.get("data"):
        return [invalid_raw("data", "runtime.RawExtension{Raw:[]uint8{...}}", "field is immutable")]
    return []


# --- status writes (ValidateXStatusUpdate) -----------------------------------------------------------

_STATUS_COUNTS = {
    "Deployment": (
        "observedGeneration",
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
        "unavailableReplicas",
        "collisionCount",
    ),
    "ReplicaSet": (
        "replicas",
        "fullyLabeledReplicas",
        "readyReplicas",
        "availableReplicas",
        "observedGeneration",
    ),
    "StatefulSet": (
        "replicas",
        "readyReplicas",
        "currentReplicas",
        "updatedReplicas",
        "availableReplicas",
        "observedGeneration",
        "collisionCount",
    ),
    "DaemonSet": (
        "currentNumberScheduled",
        "numberMisscheduled",
        "desiredNumberScheduled",
        "numberReady",
        "observedGeneration",
        "updatedNumberScheduled",
        "numberAvailable",
        "numberUnavailable",
        "collisionCount",
    ),
}
_NOT_ABOVE_REPLICAS = (
    "updatedReplicas",
    "fullyLabeledReplicas",
    "readyReplicas",
    "currentReplicas",
    "availableReplicas",
)


def status_validator(kind: str) -> Callable[[Obj, Obj], list[Cause]]:
    """ValidateXStatusUpdate of `kind`: counts non-negative, none above status.replicas,
    available not above ready, and a collisionCount that never goes down."""
    return lambda new, old: _validate_status(kind, new, old)


def _validate_status(kind: str, new: Obj, old: Obj) -> list[Cause]:
    status, old_status = as_object(new.get("status")), as_object(old.get("status"))
    causes: list[Cause] = []
    for key in _STATUS_COUNTS.get(kind, ()):
        causes += non_negative(f"status.{key}", status.get(key))
    replicas = status.get("replicas") or 0
    if kind != "DaemonSet":
        for key in _NOT_ABOVE_REPLICAS:
            if key in _STATUS_COUNTS.get(kind, ()) and (status.get(key) or 0) > replicas:
                causes.append(
                    field_invalid(f"status.{key}", status[key], "cannot be greater than status.replicas")
                )
        if (status.get("availableReplicas") or 0) > (status.get("readyReplicas") or 0):
            what = "status.readyReplicas" if kind == "StatefulSet" else "readyReplicas"
            causes.append(
                field_invalid(
                    "status.availableReplicas", status["availableReplicas"], f"cannot be greater than {what}"
                )
            )
    new_cc, old_cc = status.get("collisionCount"), old_status.get("collisionCount")
    if isinstance(old_cc, int) and (new_cc is None or (isinstance(new_cc, int) and new_cc < old_cc)):
        causes.append(field_invalid("status.collisionCount", new_cc or 0, "cannot be decremented"))
    return causes

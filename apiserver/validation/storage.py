"""Validation of PersistentVolumeClaim, PersistentVolume and StorageClass as kube-apiserver words
it (pkg/apis/core/validation: ValidatePersistentVolumeClaim*, ValidatePersistentVolume*;
pkg/apis/storage/validation: ValidateStorageClass*).

A claim needs access modes and a storage request; once created its spec is immutable except for
a bound claim's growing `resources.requests` and the binding fields the PV controller writes
(`volumeName` when empty, `storageClassName` when unset: the retroactive default class). A volume
needs capacity (storage only), access modes and exactly one source; a `local` volume needs a node
affinity, a `csi` one a valid driver name and a volume handle. A class's provisioner, parameters and reclaim policy never change.
"""

from __future__ import annotations

import copy
from typing import Any

from api import names
from api.errors import Cause, field_forbidden, field_invalid, field_not_supported, field_required
from api.quantity import parse_quantity
from apiserver.schema.types_storage import OTHER_PV_SOURCES
from apiserver.validation.csisources import csi_volume_source
from apiserver.validation.meta import immutable
from apiserver.validation.placement import node_selector_term_causes
from apiserver.validation.workloads import validate_selector

Obj = dict[str, Any]

ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
VOLUME_MODES = ["Block", "Filesystem"]
PV_RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"]
SC_RECLAIM_POLICIES = ["Delete", "Retain"]
BINDING_MODES = ["Immediate", "WaitForFirstConsumer"]
PVC_PHASES = ["Bound", "Lost", "Pending"]
PV_PHASES = ["Available", "Bound", "Failed", "Pending", "Released"]
# the PersistentVolume sources: the two kubelite mounts, then those it only keeps
PV_SOURCES = ("hostPath", "local", *OTHER_PV_SOURCES)
PVC_SPEC_IMMUTABLE = "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"


def _d(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _quantity(value: Any) -> Any:
    try:
        return parse_quantity(value)
    except (TypeError, ValueError, ArithmeticError):
        return None


def _access_modes(modes: Any, path: str) -> list[Cause]:
    modes = _l(modes)
    if not modes:
        return [field_required(path, "at least 1 access mode is required")]
    causes = [field_not_supported(path, m, ACCESS_MODES) for m in modes if m not in ACCESS_MODES]
    if "ReadWriteOncePod" in modes and len(modes) > 1:
        causes.append(field_forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return causes


def _volume_mode(mode: Any, path: str) -> list[Cause]:
    return (
        [field_not_supported(path, mode, VOLUME_MODES)]
        if mode is not None and mode not in VOLUME_MODES
        else []
    )


def _class_name(name: Any, path: str) -> list[Cause]:
    if not name:
        return []
    return [field_invalid(path, name, m) for m in names.is_dns1123_subdomain(str(name))]


# --- PersistentVolumeClaim ----------------------------------------------------------------------


def validate_claim_spec(spec: Any, path: str = "spec") -> list[Cause]:
    """ValidatePersistentVolumeClaimSpec (also what a StatefulSet's volumeClaimTemplates must pass)."""
    spec = _d(spec)
    causes = _access_modes(spec.get("accessModes"), f"{path}.accessModes")
    causes += validate_selector(spec.get("selector"), f"{path}.selector")
    requests = _d(_d(spec.get("resources")).get("requests"))
    if "storage" not in requests:
        causes.append(field_required(f"{path}.resources[storage]"))
    else:
        size = _quantity(requests["storage"])
        if size is None or size <= 0:
            causes.append(
                field_invalid(
                    f"{path}.resources.requests[storage]",
                    str(requests["storage"]),
                    "must be greater than zero",
                )
            )
    causes += _class_name(spec.get("storageClassName"), f"{path}.storageClassName")
    causes += _volume_mode(spec.get("volumeMode"), f"{path}.volumeMode")
    return causes


def validate_claim(pvc: Obj) -> list[Cause]:
    return validate_claim_spec(pvc.get("spec"))


def validate_claim_update(new: Obj, old: Obj) -> list[Cause]:
    """ValidatePersistentVolumeClaimUpdate: everything but the request size (growing, bound claims),
    an empty volumeName being set and an unset class being set is immutable."""
    new_spec, old_spec = _d(new.get("spec")), _d(old.get("spec"))
    comparable_new, comparable_old = copy.deepcopy(new_spec), copy.deepcopy(old_spec)
    # the binder sets an empty volumeName; the retroactive default class sets an unset class
    for key, settable in (
        ("volumeName", not old_spec.get("volumeName")),
        ("storageClassName", old_spec.get("storageClassName") is None),
    ):
        if settable:
            comparable_new.pop(key, None)
            comparable_old.pop(key, None)
    bound = _d(old.get("status")).get("phase") == "Bound"
    if bound:
        for s in (comparable_new, comparable_old):
            s.setdefault("resources", {}).setdefault("requests", {}).pop("storage", None)
    causes: list[Cause] = []
    if comparable_new != comparable_old:
        causes.append(field_forbidden("spec", PVC_SPEC_IMMUTABLE))
    new_size = _quantity(_d(_d(new_spec.get("resources")).get("requests")).get("storage"))
    old_size = _quantity(_d(_d(old_spec.get("resources")).get("requests")).get("storage"))
    if bound and new_size is not None and old_size is not None and new_size < old_size:
        causes.append(
            field_forbidden("spec.resources.requests.storage", "field can not be less than previous value")
        )
    return causes


def validate_claim_status(new: Obj, old: Obj) -> list[Cause]:
    phase = _d(new.get("status")).get("phase")
    if phase is not None and phase not in PVC_PHASES:
        return [field_not_supported("status.phase", phase, PVC_PHASES)]
    return []


# --- PersistentVolume ---------------------------------------------------------------------------


def _node_affinity(affinity: Any, path: str) -> list[Cause]:
    required = _d(_d(affinity).get("required"))
    if not affinity:
        return []
    if "required" not in _d(affinity):
        return [field_required(f"{path}.required", "must specify required node constraints")]
    terms = _l(required.get("nodeSelectorTerms"))
    if not terms:
        return [
            field_required(f"{path}.required.nodeSelectorTerms", "must have at least one node selector term")
        ]
    causes: list[Cause] = []
    for i, term in enumerate(terms):
        causes += node_selector_term_causes(term, f"{path}.required.nodeSelectorTerms[{i}]")
    return causes


def validate_volume(pv: Obj) -> list[Cause]:
    """ValidatePersistentVolume (the sources kubelite mounts checked field by field)."""
    spec = _d(pv.get("spec"))
    causes = _access_modes(spec.get("accessModes"), "spec.accessModes")
    capacity = _d(spec.get("capacity"))
    if not capacity:
        causes.append(field_required("spec.capacity"))
    elif "storage" not in capacity or len(capacity) > 1:
        causes.append(field_not_supported("spec.capacity", capacity, ["storage"]))
    else:
        size = _quantity(capacity["storage"])
        if size is None or size < 0:
            causes.append(
                field_invalid(
                    "spec.capacity[storage]", str(capacity["storage"]), "must be greater than or equal to 0"
                )
            )
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy is not None and policy not in PV_RECLAIM_POLICIES:
        causes.append(field_not_supported("spec.persistentVolumeReclaimPolicy", policy, PV_RECLAIM_POLICIES))
    causes += _class_name(spec.get("storageClassName"), "spec.storageClassName")
    causes += _volume_mode(spec.get("volumeMode"), "spec.volumeMode")
    sources = [s for s in PV_SOURCES if spec.get(s) is not None]
    if not sources:
        causes.append(field_required("spec", "must specify a volume type"))
    for extra in sources[1:]:
        causes.append(field_forbidden(f"spec.{extra}", "may not specify more than 1 volume type"))
    if "hostPath" in sources and not _d(spec["hostPath"]).get("path"):
        causes.append(field_required("spec.hostPath.path"))
    if "local" in sources:
        if not _d(spec["local"]).get("path"):
            causes.append(field_required("spec.local.path"))
        if not spec.get("nodeAffinity"):
            causes.append(field_required("spec.nodeAffinity", "Local volume requires node affinity"))
    if sources == ["csi"]:
        causes += csi_volume_source(spec["csi"], "spec.csi")
    causes += _node_affinity(spec.get("nodeAffinity"), "spec.nodeAffinity")
    return causes


def validate_volume_update(new: Obj, old: Obj) -> list[Cause]:
    """ValidatePersistentVolumeUpdate: the source, the volume mode and a set node affinity stay."""
    new_spec, old_spec = _d(new.get("spec")), _d(old.get("spec"))
    causes: list[Cause] = []
    if {s: new_spec.get(s) for s in PV_SOURCES} != {s: old_spec.get(s) for s in PV_SOURCES}:
        causes.append(
            field_forbidden(
                "spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation"
            )
        )
    causes += immutable("spec.volumeMode", new_spec.get("volumeMode"), old_spec.get("volumeMode"))
    if old_spec.get("nodeAffinity"):
        causes += immutable("spec.nodeAffinity", new_spec.get("nodeAffinity"), old_spec.get("nodeAffinity"))
    return causes


def validate_volume_status(new: Obj, old: Obj) -> list[Cause]:
    phase = _d(new.get("status")).get("phase")
    if phase is not None and phase not in PV_PHASES:
        return [field_not_supported("status.phase", phase, PV_PHASES)]
    return []


# --- StorageClass -------------------------------------------------------------------------------


def validate_storage_class(sc: Obj) -> list[Cause]:
    causes: list[Cause] = []
    provisioner = sc.get("provisioner")
    if not provisioner:
        causes.append(field_required("provisioner"))
    else:
        causes += [
            field_invalid("provisioner", provisioner, m) for m in names.is_qualified_name(str(provisioner))
        ]
    policy = sc.get("reclaimPolicy")
    if policy is not None and policy not in SC_RECLAIM_POLICIES:
        causes.append(field_not_supported("reclaimPolicy", policy, SC_RECLAIM_POLICIES))
    mode = sc.get("volumeBindingMode")
    if mode is None:
        causes.append(field_required("volumeBindingMode"))
    elif mode not in BINDING_MODES:
        causes.append(field_not_supported("volumeBindingMode", mode, BINDING_MODES))
    return causes


def validate_storage_class_update(new: Obj, old: Obj) -> list[Cause]:
    causes: list[Cause] = []
    if (new.get("parameters") or {}) != (old.get("parameters") or {}):
        causes.append(field_forbidden("parameters", "updates to parameters are forbidden."))
    if new.get("provisioner") != old.get("provisioner"):
        causes.append(field_forbidden("provisioner", "updates to provisioner are forbidden."))
    if new.get("reclaimPolicy") != old.get("reclaimPolicy"):
        causes.append(field_forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
    causes += immutable("volumeBindingMode", new.get("volumeBindingMode"), old.get("volumeBindingMode"))
    return causes

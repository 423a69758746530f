"""Validation of the CSI objects of storage.k8s.io/v1 as kube-apiserver words it
(pkg/apis/storage/validation: ValidateCSIDriver*, ValidateCSINode*, ValidateVolumeAttachment*,
ValidateCSIStorageCapacity*; as of Kubernetes 1.33, feature gates at their defaults).

- CSIDriver: the name a DNS-1123 subdomain (ObjectMeta's rule: the 63 characters the API reference
  mentions are not enforced); defaulting sets the booleans, so their `Required` never shows in v1. The fsGroup policy and lifecycle modes come
  from fixed sets; token audiences are unique and an expiry lies in [600 s, 2^32 s]. Only
  `attachRequired` and `volumeLifecycleModes` are immutable (the error path of the first is kube's
  `spec.attachedRequired`, typo included); the rest became mutable in 1.29.
- CSINode: the name a node name; each driver a CSI driver name (required, at most 63 characters, a
  DNS-1123 subdomain) listed once, with a node ID (required, at most 192 characters), qualified
  topology keys listed once and a non-negative allocatable count. A driver already listed never
  changes (MutableCSINodeAllocatableCount is alpha and off in 1.33).
- VolumeAttachment: an attacher (a CSI driver name in v1), a node name, and exactly one source: a
  PersistentVolume's name or an inline PersistentVolume spec, which must be a `csi` one. The spec
  never changes. Status: attachment metadata under 256 KiB, error messages under 1024 bytes.
- CSIStorageCapacity: a class name (a DNS-1123 subdomain, so "" is refused), a node topology that
  is a valid label selector, a non-negative capacity; the class and the topology never change.
"""

from __future__ import annotations

from typing import Any

from api import names
from api.errors import (
    Cause,
    field_duplicate,
    field_forbidden,
    field_invalid,
    field_not_supported,
    field_required,
)
from api.quantity import parse_quantity
from apiserver.validation.csisources import csi_driver_name, csi_volume_source
from apiserver.validation.meta import too_long, validate_selector
from apiserver.validation.storage import ACCESS_MODES, PV_SOURCES
from apiserver.validation.workloads import invalid_raw, semantic

Obj = dict[str, Any]

FS_GROUP_POLICIES = ["File", "None", "ReadWriteOnceWithFSType"]
LIFECYCLE_MODES = ["Persistent", "Ephemeral"]
MIN_TOKEN_SECONDS = 600  # "10 minutes"
MAX_TOKEN_SECONDS = 1 << 32
NODE_ID_MAX = 192
METADATA_MAX = 256 * 1024
ERROR_MESSAGE_MAX = 1024
INLINE_ONLY = "may not be specified in the context of inline volumes"


def _d(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# --- CSIDriver ----------------------------------------------------------------------------------


def csi_driver_defaults(obj: Obj) -> None:
    """storage/v1 SetDefaults_CSIDriver (SELinuxMountReadWriteOncePod is on by default in 1.33)."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    for key, value in (
        ("attachRequired", True),
        ("podInfoOnMount", False),
        ("storageCapacity", False),
        ("fsGroupPolicy", "ReadWriteOnceWithFSType"),
        ("requiresRepublish", False),
        ("seLinuxMount", False),
    ):
        if spec.get(key) is None:  # unset or null: a nil pointer to kube, defaulted alike
            spec[key] = value
    if not spec.get("volumeLifecycleModes"):
        spec["volumeLifecycleModes"] = ["Persistent"]


def _token_requests(requests: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    audiences: set[str] = set()
    for i, req in enumerate(_l(requests)):
        req, p = _d(req), f"{path}[{i}]"
        audience = str(req.get("audience") or "")
        if audience in audiences:
            causes.append(field_duplicate(f"{p}.audience", audience))
            continue
        audiences.add(audience)
        seconds = req.get("expirationSeconds")
        if not isinstance(seconds, int) or isinstance(seconds, bool):
            continue
        if seconds < MIN_TOKEN_SECONDS:
            causes.append(
                field_invalid(
                    f"{p}.expirationSeconds", seconds, "may not specify a duration less than 10 minutes"
                )
            )
        if seconds > MAX_TOKEN_SECONDS:
            causes.append(
                field_invalid(
                    f"{p}.expirationSeconds", seconds, "may not specify a duration larger than 2^32 seconds"
                )
            )
    return causes


def _driver_spec(spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    for key, path in (
        ("attachRequired", "spec.attachedRequired"),  # kube's path, typo included
        ("podInfoOnMount", "spec.podInfoOnMount"),
        ("storageCapacity", "spec.storageCapacity"),
        ("seLinuxMount", "spec.seLinuxMount"),
    ):
        if spec.get(key) is None:
            causes.append(field_required(path))
    policy = spec.get("fsGroupPolicy")
    if policy is not None and policy not in FS_GROUP_POLICIES:
        causes.append(field_not_supported("spec.fsGroupPolicy", policy, FS_GROUP_POLICIES))
    causes += _token_requests(spec.get("tokenRequests"), "spec.tokenRequests")
    for mode in _l(spec.get("volumeLifecycleModes")):
        if mode not in LIFECYCLE_MODES:
            causes.append(field_not_supported("spec.volumeLifecycleModes", mode, LIFECYCLE_MODES))
    return causes


def validate_csi_driver(obj: Obj) -> list[Cause]:
    return _driver_spec(_d(obj.get("spec")))


def validate_csi_driver_update(new: Obj, old: Obj) -> list[Cause]:
    """ValidateCSIDriverUpdate: attachRequired and volumeLifecycleModes stay as created."""
    spec, old_spec = _d(new.get("spec")), _d(old.get("spec"))
    causes: list[Cause] = []
    if spec.get("attachRequired") != old_spec.get("attachRequired"):
        causes.append(
            invalid_raw(
                "spec.attachedRequired", _go_bool_pointer(spec.get("attachRequired")), names.IMMUTABLE_MSG
            )
        )
    if semantic(spec.get("volumeLifecycleModes")) != semantic(old_spec.get("volumeLifecycleModes")):
        modes = ", ".join(f'"{m}"' for m in _l(spec.get("volumeLifecycleModes")))
        causes.append(
            invalid_raw(
                "spec.volumeLifecycleModes", f"[]storage.VolumeLifecycleMode{{{modes}}}", names.IMMUTABLE_MSG
            )
        )
    return causes


def _go_bool_pointer(value: Any) -> str:
    """A *bool as field.Error prints it: the value it points to, or null."""
    return "null" if value is None else str(bool(value)).lower()


def driver_generation(new: Obj, old: Obj) -> None:
    """PrepareForUpdate: any change of the spec counts a generation (from 0: none is set at create)."""
    if new.get("spec") != old.get("spec"):
        meta = new.setdefault("metadata", {})
        meta["generation"] = int(_d(old.get("metadata")).get("generation") or 0) + 1


def drop_alpha_driver_fields(obj: Obj) -> None:
    """PrepareForCreate: nodeAllocatableUpdatePeriodSeconds needs MutableCSINodeAllocatableCount
    (alpha, off in 1.33), so it is dropped as kube's strategy drops disabled fields."""
    _d(obj.get("spec")).pop("nodeAllocatableUpdatePeriodSeconds", None)


# --- CSINode ------------------------------------------------------------------------------------


def validate_csi_node(obj: Obj) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, driver in enumerate(_l(_d(obj.get("spec")).get("drivers"))):
        driver, p = _d(driver), f"spec.drivers[{i}]"
        name = str(driver.get("name") or "")
        causes += csi_driver_name(name, f"{p}.name")
        node_id = str(driver.get("nodeID") or "")
        if not node_id:
            causes.append(field_required(f"{p}.nodeID"))
        if len(node_id) > NODE_ID_MAX:
            causes.append(field_invalid(f"{p}.nodeID", node_id, f"must be {NODE_ID_MAX} characters or less"))
        count = _d(driver.get("allocatable")).get("count")
        if isinstance(count, int) and not isinstance(count, bool) and count < 0:
            causes.append(field_invalid(f"{p}.allocatable.count", count, names.NON_NEGATIVE_MSG))
        if name in seen:
            causes.append(field_duplicate(f"{p}.name", name))
        seen.add(name)
        keys: set[str] = set()
        for key in _l(driver.get("topologyKeys")):
            key = str(key or "")
            if not key:
                causes.append(field_required(p))
            if key in keys:
                causes.append(field_duplicate(p, key))
            keys.add(key)
            causes += [field_invalid(p, key, m) for m in names.is_qualified_name(key)]
    return causes


def validate_csi_node_update(new: Obj, old: Obj) -> list[Cause]:
    """ValidateCSINodeUpdate: a driver the old object lists, listed again, must be unchanged."""
    old_drivers = {str(_d(d).get("name")): _d(d) for d in _l(_d(old.get("spec")).get("drivers"))}
    causes: list[Cause] = []
    for driver in _l(_d(new.get("spec")).get("drivers")):
        before = old_drivers.get(str(_d(driver).get("name")))
        if before is not None and semantic(before) != semantic(driver):
            causes.append(invalid_raw("spec.drivers", "storage.CSINodeDriver{...}", names.IMMUTABLE_MSG))
    return causes


# --- VolumeAttachment ---------------------------------------------------------------------------


def _inline_spec(spec: Obj, path: str) -> list[Cause]:
    """ValidatePersistentVolumeSpec in the context of inline volumes (a VolumeAttachment's source)."""
    causes: list[Cause] = []
    if spec.get("claimRef") is not None:
        causes.append(field_forbidden(f"{path}.claimRef", INLINE_ONLY))
    if spec.get("capacity"):
        causes.append(field_forbidden(f"{path}.capacity", INLINE_ONLY))
    if spec.get("csi") is None:
        causes.append(field_required(f"{path}.csi", "has to be specified in the context of inline volumes"))
    modes = _l(spec.get("accessModes"))
    if not modes:
        causes.append(field_required(f"{path}.accessModes"))
    causes += [
        field_not_supported(f"{path}.accessModes", m, ACCESS_MODES) for m in modes if m not in ACCESS_MODES
    ]
    if "ReadWriteOncePod" in modes and any(m != "ReadWriteOncePod" and m in ACCESS_MODES for m in modes):
        causes.append(
            field_forbidden(f"{path}.accessModes", "may not use ReadWriteOncePod with other access modes")
        )
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy and policy != "Retain":
        causes.append(
            field_forbidden(
                f"{path}.persistentVolumeReclaimPolicy", "may only be Retain in the context of inline volumes"
            )
        )
    if spec.get("nodeAffinity") is not None:
        causes.append(field_forbidden(f"{path}.nodeAffinity", INLINE_ONLY))
    sources = [s for s in PV_SOURCES if spec.get(s) is not None]
    if not sources:
        causes.append(field_required(path, "must specify a volume type"))
    for extra in sources[1:]:
        causes.append(field_forbidden(f"{path}.{extra}", "may not specify more than 1 volume type"))
    if sources and sources[0] == "csi":
        causes += csi_volume_source(spec["csi"], f"{path}.csi")
    if spec.get("storageClassName"):
        causes.append(field_forbidden(f"{path}.storageClassName", INLINE_ONLY))
    return causes


def _volume_error(error: Any, path: str) -> list[Cause]:
    if error is None:
        return []
    error = _d(error)
    causes: list[Cause] = []
    if len(str(error.get("message") or "").encode()) > ERROR_MESSAGE_MAX:
        causes.append(too_long(f"{path}.message", METADATA_MAX))  # kube names the metadata limit here
    code = error.get("errorCode")
    if isinstance(code, int) and not isinstance(code, bool) and code < 0:
        causes.append(field_invalid(f"{path}.errorCode", code, "must be between 0 and 2147483647, inclusive"))
    return causes


def _attachment_status(status: Obj) -> list[Cause]:
    metadata = _d(status.get("attachmentMetadata"))
    size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in metadata.items())
    causes = [too_long("status.attachmentMetadata", METADATA_MAX)] if size > METADATA_MAX else []
    causes += _volume_error(status.get("attachError"), "status.attachError")
    causes += _volume_error(status.get("detachError"), "status.detachError")
    return causes


def validate_volume_attachment(obj: Obj) -> list[Cause]:
    """ValidateVolumeAttachment (create and every update)."""
    spec = _d(obj.get("spec"))
    causes: list[Cause] = []
    if not spec.get("attacher"):
        causes.append(field_required("spec.attacher"))
    source = _d(spec.get("source"))
    pv_name, inline = source.get("persistentVolumeName"), source.get("inlineVolumeSpec")
    both = "must specify exactly one of inlineVolumeSpec and persistentVolumeName"
    if inline is None and pv_name is None:
        causes.append(field_required("spec.source", both))
    elif inline is not None and pv_name is not None:
        causes.append(field_forbidden("spec.source", both))
    elif pv_name is not None:
        if not pv_name:
            causes.append(
                field_required(
                    "spec.source.persistentVolumeName", "must specify non empty persistentVolumeName"
                )
            )
    else:
        causes += _inline_spec(_d(inline), "spec.source.inlineVolumeSpec")
    node = str(spec.get("nodeName") or "")
    causes += [field_invalid("spec.nodeName", node, m) for m in names.is_dns1123_subdomain(node)]
    return causes + _attachment_status(_d(obj.get("status")))


def validate_volume_attachment_create(obj: Obj) -> list[Cause]:
    """ValidateVolumeAttachmentV1: what a new v1 attachment is held to beyond the common rules."""
    spec = _d(obj.get("spec"))
    causes = csi_driver_name(spec.get("attacher"), "spec.attacher")
    pv_name = _d(spec.get("source")).get("persistentVolumeName")
    if isinstance(pv_name, str):
        path = "spec.source.persistentVolumeName"
        causes += [field_invalid(path, pv_name, m) for m in names.is_dns1123_subdomain(pv_name)]
    return causes


def validate_volume_attachment_update(new: Obj, old: Obj) -> list[Cause]:
    """ValidateVolumeAttachmentUpdate: the spec is read-only."""
    if semantic(new.get("spec")) != semantic(old.get("spec")):
        return [invalid_raw("spec", "storage.VolumeAttachmentSpec{...}", names.IMMUTABLE_MSG)]
    return []


def validate_volume_attachment_status(new: Obj, old: Obj) -> list[Cause]:
    """The status strategy keeps the main strategy's ValidateUpdate: all of it again."""
    return validate_volume_attachment(new) + validate_volume_attachment_update(new, old)


def reset_attachment_status(obj: Obj) -> None:
    """PrepareForCreate: the status is the attacher's to write; a new attachment is not attached."""
    obj["status"] = {"attached": False}


def drop_new_error_codes(new: Obj, old: Obj) -> None:
    """The status strategy drops an errorCode the old status did not have (its gate,
    MutableCSINodeAllocatableCount, is alpha and off in 1.33)."""
    status, old_status = _d(new.get("status")), _d(old.get("status"))
    for key in ("attachError", "detachError"):
        error = status.get(key)
        if isinstance(error, dict) and _d(old_status.get(key)).get("errorCode") is None:
            error.pop("errorCode", None)


# --- CSIStorageCapacity -------------------------------------------------------------------------


def validate_csi_storage_capacity(obj: Obj) -> list[Cause]:
    causes = validate_selector(obj.get("nodeTopology"), "nodeTopology")
    name = obj.get("storageClassName")
    name = name if isinstance(name, str) else ""
    causes += [field_invalid("storageClassName", name, m) for m in names.is_dns1123_subdomain(name)]
    capacity = obj.get("capacity")
    if capacity is not None:
        try:
            negative = parse_quantity(capacity) < 0
        except (TypeError, ValueError, ArithmeticError):
            negative = False  # the type check refuses what is not a quantity
        if negative:
            causes.append(field_invalid("capacity", str(capacity), names.NON_NEGATIVE_MSG))
    return causes


def validate_csi_storage_capacity_update(new: Obj, old: Obj) -> list[Cause]:
    causes: list[Cause] = []
    if semantic(new.get("nodeTopology")) != semantic(old.get("nodeTopology")):
        shown = "null" if new.get("nodeTopology") is None else "v1.LabelSelector{...}"
        causes.append(invalid_raw("nodeTopology", shown, names.IMMUTABLE_MSG))
    if new.get("storageClassName") != old.get("storageClassName"):
        causes.append(
            field_invalid("storageClassName", str(new.get("storageClassName") or ""), names.IMMUTABLE_MSG)
        )
    return causes

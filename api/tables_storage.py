"""Table columns of PersistentVolume, PersistentVolumeClaim and StorageClass, as kube-apiserver
prints them (pkg/printers/internalversion: printPersistentVolume, printPersistentVolumeClaim,
printStorageClass).

Access modes are abbreviated in kube's fixed order (RWO, ROX, RWX, RWOP); a claim shows its
volume's capacity and modes only once it names a volume; an object being deleted reads
`Terminating`; an unset volume mode or attributes class reads `<unset>`; the default class's
name carries ` (default)`.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables

Obj = dict[str, Any]

_ABBREVIATIONS = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)
_DEFAULT_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
UNSET = "<unset>"


def access_modes(modes: Any) -> str:
    """GetAccessModesAsString."""
    modes = modes if isinstance(modes, list) else []
    return ",".join(short for mode, short in _ABBREVIATIONS if mode in modes)


def _d(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _phase(obj: Obj) -> str:
    if _d(obj.get("metadata")).get("deletionTimestamp"):
        return "Terminating"
    return str(_d(obj.get("status")).get("phase") or "")


def _volume_row(pv: Obj, now: _dt.datetime) -> list[Any]:
    spec, status = _d(pv.get("spec")), _d(pv.get("status"))
    ref = _d(spec.get("claimRef"))
    claim = f"{ref.get('namespace') or ''}/{ref.get('name') or ''}" if spec.get("claimRef") else ""
    return [
        tables.name_cell(pv),
        str(_d(spec.get("capacity")).get("storage") or "0"),
        access_modes(spec.get("accessModes")),
        str(spec.get("persistentVolumeReclaimPolicy") or ""),
        _phase(pv),
        claim,
        str(spec.get("storageClassName") or ""),
        spec.get("volumeAttributesClassName") or UNSET,
        str(status.get("reason") or ""),
        tables.age_cell(pv, now),
        spec.get("volumeMode") or UNSET,
    ]


def _claim_row(pvc: Obj, now: _dt.datetime) -> list[Any]:
    spec, status = _d(pvc.get("spec")), _d(pvc.get("status"))
    capacity = modes = ""
    if spec.get("volumeName"):
        modes = access_modes(status.get("accessModes"))
        capacity = str(_d(status.get("capacity")).get("storage") or "0")
    return [
        tables.name_cell(pvc),
        _phase(pvc),
        str(spec.get("volumeName") or ""),
        capacity,
        modes,
        str(spec.get("storageClassName") or ""),
        spec.get("volumeAttributesClassName") or UNSET,
        tables.age_cell(pvc, now),
        spec.get("volumeMode") or UNSET,
    ]


def _class_row(sc: Obj, now: _dt.datetime) -> list[Any]:
    name = tables.name_cell(sc)
    annotations = _d(_d(sc.get("metadata")).get("annotations"))
    if any(annotations.get(a) == "true" for a in _DEFAULT_ANNOTATIONS):
        name += " (default)"
    return [
        name,
        str(sc.get("provisioner") or ""),
        str(sc.get("reclaimPolicy") or "Delete"),
        str(sc.get("volumeBindingMode") or "Immediate"),
        bool(sc.get("allowVolumeExpansion")),
        tables.age_cell(sc, now),
    ]


_col = tables.column
_VOLUME_MODE = (
    "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in "
    "raw block state. Value of Filesystem is implied when not included in spec."
)

tables.register(
    "persistentvolumes",
    [
        tables.NAME_COLUMN,
        _col(
            "Capacity",
            "capacity is the description of the persistent volume's resources and capacity. More info: "
            "https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity",
        ),
        _col(
            "Access Modes",
            "accessModes contains all ways the volume can be mounted. More info: "
            "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes",
        ),
        _col(
            "Reclaim Policy",
            "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released "
            "from its claim. Valid options are Retain (default for manually created "
            "PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and "
            "Recycle (deprecated). Recycle must be supported by the volume plugin underlying this "
            "PersistentVolume. More info: "
            "https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming",
        ),
        _col(
            "Status",
            "phase indicates if a volume is available, bound to a claim, or released by a claim. More info: "
            "https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase",
        ),
        _col(
            "Claim",
            "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. "
            "Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. "
            "More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding",
        ),
        _col("StorageClass", "StorageClass of the pv"),
        _col("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
        _col(
            "Reason",
            "reason is a brief CamelCase string that describes any failure and is meant for machine parsing "
            "and tidy display in the CLI.",
        ),
        tables.AGE_COLUMN,
        _col("VolumeMode", _VOLUME_MODE, priority=1),
    ],
    _volume_row,
)

tables.register(
    "persistentvolumeclaims",
    [
        tables.NAME_COLUMN,
        _col("Status", "phase represents the current phase of PersistentVolumeClaim."),
        _col("Volume", "volumeName is the binding reference to the PersistentVolume backing this claim."),
        _col("Capacity", "capacity represents the actual resources of the underlying volume."),
        _col(
            "Access Modes",
            "accessModes contains the actual access modes the volume backing the PVC has. More info: "
            "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1",
        ),
        _col("StorageClass", "StorageClass of the pvc"),
        _col("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
        tables.AGE_COLUMN,
        _col(
            "VolumeMode",
            "volumeMode defines what type of volume is required by the claim. Value of Filesystem is "
            "implied when not included in claim spec.",
            priority=1,
        ),
    ],
    _claim_row,
)

tables.register(
    "storageclasses",
    [
        tables.NAME_COLUMN,
        _col("Provisioner", "provisioner indicates the type of the provisioner."),
        _col(
            "ReclaimPolicy",
            "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes "
            "of this storage class. Defaults to Delete.",
        ),
        _col(
            "VolumeBindingMode",
            "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and "
            "bound.  When unset, VolumeBindingImmediate is used. This field is only honored by "
            "servers that enable the VolumeScheduling feature.",
        ),
        _col(
            "AllowVolumeExpansion",
            "allowVolumeExpansion shows whether the storage class allow volume expand.",
        ),
        tables.AGE_COLUMN,
    ],
    _class_row,
)

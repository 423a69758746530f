"""Table columns of the CSI objects of storage.k8s.io/v1 as kube-apiserver prints them
(pkg/printers/internalversion: printCSIDriver, printCSINode, printVolumeAttachment,
printCSIStorageCapacity).

A CSIDriver shows its booleans (an unset attachRequired reads true, the others false), its token
audiences joined by commas (`<unset>` when it lists none at all) and its lifecycle modes (`<none>`
when empty); a CSINode the number of its drivers; a VolumeAttachment its attacher, PersistentVolume
(empty for an inline spec), node and whether it is attached; a CSIStorageCapacity its class and
capacity (`<unset>`), with no Age column, as kube prints it.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables

Obj = dict[str, Any]


def _d(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _flag(value: Any, default: bool) -> bool:
    return default if value is None else bool(value)


def _driver_row(obj: Obj, now: _dt.datetime) -> list[Any]:
    spec = _d(obj.get("spec"))
    tokens = spec.get("tokenRequests")
    audiences = (
        "<unset>" if tokens is None else ",".join(str(_d(t).get("audience") or "") for t in _l(tokens))
    )
    modes = ",".join(str(m) for m in _l(spec.get("volumeLifecycleModes"))) or "<none>"
    return [
        tables.name_cell(obj),
        _flag(spec.get("attachRequired"), True),
        _flag(spec.get("podInfoOnMount"), False),
        _flag(spec.get("storageCapacity"), False),
        audiences,
        _flag(spec.get("requiresRepublish"), False),
        modes,
        tables.age_cell(obj, now),
    ]


def _node_row(obj: Obj, now: _dt.datetime) -> list[Any]:
    return [tables.name_cell(obj), len(_l(_d(obj.get("spec")).get("drivers"))), tables.age_cell(obj, now)]


def _attachment_row(obj: Obj, now: _dt.datetime) -> list[Any]:
    spec = _d(obj.get("spec"))
    return [
        tables.name_cell(obj),
        str(spec.get("attacher") or ""),
        str(_d(spec.get("source")).get("persistentVolumeName") or ""),
        str(spec.get("nodeName") or ""),
        bool(_d(obj.get("status")).get("attached")),
        tables.age_cell(obj, now),
    ]


def _capacity_row(obj: Obj, now: _dt.datetime) -> list[Any]:
    capacity = obj.get("capacity")
    return [
        tables.name_cell(obj),
        str(obj.get("storageClassName") or ""),
        "<unset>" if capacity is None else str(capacity),
    ]


_col = tables.column

tables.register(
    "csidrivers",
    [
        tables.NAME_COLUMN,
        _col(
            "AttachRequired",
            "attachRequired indicates this CSI volume driver requires an attach operation (because it "
            "implements the CSI ControllerPublishVolume() method).",
            "boolean",
        ),
        _col(
            "PodInfoOnMount",
            "podInfoOnMount indicates this CSI volume driver requires additional pod information (like "
            "podName, podUID, etc.) during mount operations, if set to true.",
            "boolean",
        ),
        _col(
            "StorageCapacity",
            "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the "
            "storage capacity that the driver deployment will report by creating CSIStorageCapacity objects.",
            "boolean",
        ),
        _col(
            "TokenRequests",
            "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting "
            "volume for to do necessary authentication.",
        ),
        _col(
            "RequiresRepublish",
            "requiresRepublish indicates the CSI driver wants `NodePublishVolume` being periodically "
            "called to reflect any possible change in the mounted volume.",
            "boolean",
        ),
        _col("Modes", "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports."),
        tables.AGE_COLUMN,
    ],
    _driver_row,
)

tables.register(
    "csinodes",
    [
        tables.NAME_COLUMN,
        _col("Drivers", "Drivers indicates the number of CSI drivers registered on the node", "integer"),
        tables.AGE_COLUMN,
    ],
    _node_row,
)

tables.register(
    "volumeattachments",
    [
        tables.NAME_COLUMN,
        _col(
            "Attacher",
            "attacher indicates the name of the volume driver that MUST handle this request.",
            fmt="name",
        ),
        _col("PV", "persistentVolumeName represents the name of the persistent volume to attach."),
        _col("Node", "nodeName represents the node that the volume should be attached to."),
        _col("Attached", "attached indicates the volume is successfully attached.", "boolean"),
        tables.AGE_COLUMN,
    ],
    _attachment_row,
)

tables.register(
    "csistoragecapacities",
    [
        tables.NAME_COLUMN,
        _col(
            "StorageClassName",
            "storageClassName represents the name of the StorageClass that the reported capacity applies to.",
        ),
        _col(
            "Capacity",
            "capacity is the value reported by the CSI driver in its GetCapacityResponse for a GetCapacityRequest.",
        ),
    ],
    _capacity_row,
)

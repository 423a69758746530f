"""The `csi` volume sources as kube-apiserver checks them wherever they appear (pkg/apis/core/validation:
ValidateCSIDriverName, validateCSIPersistentVolumeSource, validateCSIVolumeSource): a
PersistentVolume's or a VolumeAttachment's inline spec, a pod's inline volume, and the driver names
of CSINodes and VolumeAttachments.

A driver name is required, at most 63 characters and a DNS-1123 subdomain once lowercased; a
persistent source needs a volume handle and complete secret references; an inline one a named
secret when it gives one. No imports beyond names and errors: pod, storage and CSI validation all
use it.
"""

from __future__ import annotations

from typing import Any

from api import names
from api.errors import Cause, field_invalid, field_required
from apiserver.validation.meta import too_long

Obj = dict[str, Any]


def _d(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def csi_driver_name(name: Any, path: str) -> list[Cause]:
    """core's ValidateCSIDriverName: what a CSI driver's name must be wherever one is named."""
    name = name if isinstance(name, str) else ""
    causes: list[Cause] = []
    if not name:
        causes.append(field_required(path))
    if len(name) > 63:
        causes.append(too_long(path, 63))
    causes += [field_invalid(path, name, m) for m in names.is_dns1123_subdomain(name.lower())]
    return causes


def _secret_ref(ref: Any, path: str) -> list[Cause]:
    ref = _d(ref)
    causes: list[Cause] = []
    for key, check in (("name", names.is_dns1123_subdomain), ("namespace", names.is_dns1123_label)):
        value = str(ref.get(key) or "")
        if not value:
            causes.append(field_required(f"{path}.{key}"))
        else:
            causes += [field_invalid(f"{path}.{key}", value, m) for m in check(value)]
    return causes


def csi_volume_source(csi: Any, path: str) -> list[Cause]:
    """validateCSIPersistentVolumeSource: a driver name, a volume handle, complete secret references."""
    csi = _d(csi)
    causes = csi_driver_name(csi.get("driver"), f"{path}.driver")
    if not csi.get("volumeHandle"):
        causes.append(field_required(f"{path}.volumeHandle"))
    for ref in (
        "controllerPublishSecretRef",
        "controllerExpandSecretRef",
        "nodePublishSecretRef",
        "nodeExpandSecretRef",
    ):
        if csi.get(ref) is not None:
            causes += _secret_ref(csi[ref], f"{path}.{ref}")
    return causes


def csi_inline_source(csi: Any, path: str) -> list[Cause]:
    """validateCSIVolumeSource: a pod's inline `csi` volume."""
    csi = _d(csi)
    causes = csi_driver_name(csi.get("driver"), f"{path}.driver")
    ref = csi.get("nodePublishSecretRef")
    if ref is not None:
        secret = str(_d(ref).get("name") or "")
        if not secret:
            causes.append(field_required(f"{path}.nodePublishSecretRef.name"))
        else:  # kube's path for this one is the volume source's `name` (sic)
            causes += [field_invalid(f"{path}.name", secret, m) for m in names.is_dns1123_subdomain(secret)]
    return causes

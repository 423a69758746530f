"""Rows of PersistentVolumeClaim, PersistentVolume (core/v1) and StorageClass (storage.k8s.io/v1),
and the admission plugins kube-apiserver runs on them:

- DefaultStorageClass: a claim created without `storageClassName` (absent or null, not "") gets
  the class annotated `storageclass.kubernetes.io/is-default-class: "true"` (the newest when
  several are); none marked, none given.
- PersistentVolumeClaimResize: a bound claim's storage request may grow only when its class
  says `allowVolumeExpansion: true`.
- StorageObjectInUseProtection: every new claim and volume carries its protection finalizer
  (controller.volumeprotection takes it off once nothing uses the object).

The first two read StorageClasses from the store, so they are write hooks (`claim` runs before
the write of a create or update, after validation). `local-path` is the class every server makes
at bootstrap (`local_path_class`): rancher's local-path provisioner as k3s ships it
(WaitForFirstConsumer, Delete).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.errors import forbidden
from api.podrefs import LOCAL_PATH_PROVISIONER
from api.quantity import quantity_or_none
from api.resources import by_plural
from apiserver import limitranger
from apiserver.defaults import canonical_quantities
from apiserver.kinds import HookContext, Obj, WriteHooks, row
from apiserver.kinds.defaultclass import annotated_true, marked_default, newest_default, stored_classes
from apiserver.validation.podwarnings import persistent_volume_warnings
from apiserver.validation.storage import (
    validate_claim,
    validate_claim_status,
    validate_claim_update,
    validate_storage_class,
    validate_storage_class_update,
    validate_volume,
    validate_volume_status,
    validate_volume_update,
)

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
BETA_DEFAULT_CLASS_ANNOTATION = "storageclass.beta.kubernetes.io/is-default-class"
STORAGE_CLASSES = by_plural("storage.k8s.io", "storageclasses")


def local_path_class() -> Obj:
    """The default class every server makes at bootstrap."""
    return marked_default(
        "storage.k8s.io/v1",
        "StorageClass",
        "local-path",
        DEFAULT_CLASS_ANNOTATION,
        provisioner=LOCAL_PATH_PROVISIONER,
        reclaimPolicy="Delete",
        volumeBindingMode="WaitForFirstConsumer",
    )


def is_default_class(sc: Obj) -> bool:
    return annotated_true(sc, DEFAULT_CLASS_ANNOTATION, BETA_DEFAULT_CLASS_ANNOTATION)


def default_class(classes: list[Obj]) -> Obj | None:
    """The default class among these: the newest of those marked, then by name (kube's GetDefaultClass)."""
    return newest_default(classes, is_default_class)


def _storage(claim: Obj) -> Any:
    value: Any = (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    return quantity_or_none(value)


class ClaimAdmission(WriteHooks):
    """DefaultStorageClass on create, PersistentVolumeClaimResize on update."""

    async def _classes(self, ctx: HookContext) -> dict[str, Obj]:
        return {str(sc["metadata"]["name"]): sc for sc in await stored_classes(ctx, STORAGE_CLASSES)}

    async def claim(self, ctx: HookContext, new: Obj, old: Obj | None) -> list[str]:
        spec = new.get("spec")
        if not isinstance(spec, dict):
            return []
        if old is None:
            namespace = str((new.get("metadata") or {}).get("namespace") or "")
            await limitranger.admit_claim(ctx.limit_ranges, namespace, new)
            if spec.get("storageClassName") is None:
                chosen = default_class(list((await self._classes(ctx)).values()))
                if chosen is not None:
                    spec["storageClassName"] = chosen["metadata"]["name"]
            return []
        grown, before = _storage(new), _storage(old)
        if grown is not None and before is not None and grown > before:
            sc = (await self._classes(ctx)).get(str(spec.get("storageClassName") or ""))
            if sc is None or not sc.get("allowVolumeExpansion"):
                name = (new.get("metadata") or {}).get("name")
                raise forbidden(
                    f'persistentvolumeclaims "{name}" is forbidden: only dynamically provisioned pvc '
                    "can be resized and the storageclass that provisions the pvc must support resize"
                )
        return []


def _pending_and_protected(finalizer: str) -> Callable[[Obj], None]:
    """PrepareForCreate of a claim or volume: Pending, with StorageObjectInUseProtection's
    finalizer (the controller-manager's protection loop takes it off once unused)."""

    def prepare(obj: Obj) -> None:
        obj["status"] = {"phase": "Pending"}
        meta = obj.setdefault("metadata", {})
        if finalizer not in (meta.get("finalizers") or []):
            meta["finalizers"] = [*(meta.get("finalizers") or []), finalizer]

    return prepare


def _mode_and_phase(obj: Obj) -> None:
    """v1 defaulting of claims and volumes: volumeMode Filesystem, status phase Pending."""
    spec = obj.get("spec")
    if isinstance(spec, dict) and not spec.get("volumeMode"):
        spec["volumeMode"] = "Filesystem"
    if isinstance(spec, dict):
        canonical_quantities(spec.get("capacity"))  # a volume's
        resources = spec.get("resources")
        if isinstance(resources, dict):  # a claim's
            canonical_quantities(resources.get("requests"))
            canonical_quantities(resources.get("limits"))
    status = obj.get("status")
    if isinstance(status, dict) and not status.get("phase"):
        status["phase"] = "Pending"


def _volume_defaults(obj: Obj) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
    _mode_and_phase(obj)


def _class_defaults(obj: Obj) -> None:
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


row(
    "persistentvolumeclaims",
    status_separate=True,
    prepare_create=_pending_and_protected("kubernetes.io/pvc-protection"),
    defaults=_mode_and_phase,
    validate=validate_claim,
    validate_update=validate_claim_update,
    validate_status=validate_claim_status,
    hooks=ClaimAdmission(),
)
row(
    "persistentvolumes",
    status_separate=True,
    prepare_create=_pending_and_protected("kubernetes.io/pv-protection"),
    warnings=persistent_volume_warnings,
    defaults=_volume_defaults,
    validate=validate_volume,
    validate_update=validate_volume_update,
    validate_status=validate_volume_status,
)
row(
    "storageclasses",
    "storage.k8s.io",
    defaults=_class_defaults,
    validate=validate_storage_class,
    validate_update=validate_storage_class_update,
)

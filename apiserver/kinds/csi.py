"""Rows of the CSI objects of storage.k8s.io/v1: CSIDriver, CSINode, VolumeAttachment (with its
`status`) and the namespaced CSIStorageCapacity, as kube's registry strategies keep them.

kubelite runs no CSI driver: no kubelet has a plugin-registration socket, there is no attach/detach
controller and no external attacher or provisioner. So these objects are stored and validated
(`apiserver.validation.csi`) and nothing acts on them, except:

- every real kubelet creates its node's CSINode at registration, with no drivers and an
  ownerReference to its Node (kubelet/node.py), as kube's kubelet does; the NodeRestriction rule
  here lets a node create or write only the CSINode named after it;
- the kubelet reads a driver's CSIDriver when a pod uses a `csi` volume, to fail its mount with
  the words kube's kubelet uses when that driver is not registered on the node (kubelet/volumes.py).

Strategies: a CSIDriver is defaulted (storage/v1 defaults.go), drops the alpha
nodeAllocatableUpdatePeriodSeconds and counts a generation on each change of its spec (from none
at create, as kube's strategy does); a VolumeAttachment starts unattached, its main writes keep the
status and its /status writes keep the spec (a new errorCode is dropped: its gate is off in 1.33).
"""

from __future__ import annotations

from typing import Any

from api.errors import admission_forbidden
from apiserver.kinds import Obj, SubresourceWrite, row
from apiserver.lifecycle import keep_status
from apiserver.validation.csi import (
    csi_driver_defaults,
    driver_generation,
    drop_alpha_driver_fields,
    drop_new_error_codes,
    reset_attachment_status,
    validate_csi_driver,
    validate_csi_driver_update,
    validate_csi_node,
    validate_csi_node_update,
    validate_csi_storage_capacity,
    validate_csi_storage_capacity_update,
    validate_volume_attachment,
    validate_volume_attachment_create,
    validate_volume_attachment_status,
    validate_volume_attachment_update,
)

GROUP = "storage.k8s.io"
SAME_NAME = "can only access CSINode with the same name as the requesting node"


def _own_csi_node_only(state: Any, user: Any, namespace: str | None, obj: Obj) -> None:
    """NodeRestriction's admitCSINode: a node writes only the CSINode named after it (the node
    authorizer checks the name in the path; a create has its name only in the body)."""
    node = getattr(user, "node_name", None) if getattr(user, "is_node", False) else None
    name = str((obj.get("metadata") or {}).get("name") or "")
    if node is not None and name != node:
        raise admission_forbidden("csinodes", GROUP, name, SAME_NAME)


row(
    "csidrivers",
    GROUP,
    prepare_create=drop_alpha_driver_fields,
    prepare_update=driver_generation,
    defaults=csi_driver_defaults,
    validate=validate_csi_driver,
    validate_update=validate_csi_driver_update,
)
row(
    "csinodes",
    GROUP,
    validate=validate_csi_node,
    validate_update=validate_csi_node_update,
    admit=_own_csi_node_only,
)
row(
    "volumeattachments",
    GROUP,
    status_separate=True,
    prepare_create=reset_attachment_status,
    validate=validate_volume_attachment,
    validate_create=validate_volume_attachment_create,
    validate_update=validate_volume_attachment_update,
    subresource_writes={
        "status": SubresourceWrite(keep_status, validate_volume_attachment_status, drop_new_error_codes)
    },
)
row(
    "csistoragecapacities",
    GROUP,
    validate=validate_csi_storage_capacity,
    validate_update=validate_csi_storage_capacity_update,
)

"""Field tables of the storage kinds: core/v1 PersistentVolumeClaim and PersistentVolume,
storage.k8s.io/v1 StorageClass and the CSI objects (CSIDriver, CSINode, VolumeAttachment,
CSIStorageCapacity), and the pod's `persistentVolumeClaim` volume source, in the
compact notation of `types.py` (k8s.io/api core/v1 and storage/v1 as of Kubernetes 1.33).

Kept apart so that storage is one small table. The volume sources kubelite mounts (`hostPath`,
`local`) are typed; the cloud and network sources a PersistentVolume may name are `object`:
accepted and kept, never mounted. `NodeSelector` and its parts live here with a local volume's
node affinity; the pod's `affinity` (types.py) uses them too.
"""

from __future__ import annotations

from apiserver.schema.types import TYPE_META, condition

STORAGE = "io.k8s.api.storage.v1"

# sources of a PersistentVolume kubelite keeps but does not mount
OTHER_PV_SOURCES = (
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "nfs",
    "rbd",
    "iscsi",
    "cinder",
    "cephfs",
    "fc",
    "flocker",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
)

STORAGE_CORE_TYPES: dict[str, dict[str, str]] = {
    # --- PersistentVolumeClaim
    "PersistentVolumeClaim": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "PersistentVolumeClaimSpec",
        "status": "PersistentVolumeClaimStatus",
    },
    "PersistentVolumeClaimSpec": {
        "accessModes": "[string]",
        "selector": "LabelSelector",
        "resources": "VolumeResourceRequirements",
        "volumeName": "string",
        "storageClassName": "string",
        "volumeMode": "string",
        "dataSource": "TypedLocalObjectReference",
        "dataSourceRef": "TypedObjectReference",
        "volumeAttributesClassName": "string",
    },
    "VolumeResourceRequirements": {"limits": "{Quantity}", "requests": "{Quantity}"},
    "TypedLocalObjectReference": {"apiGroup": "string", "kind!": "string", "name!": "string"},
    "TypedObjectReference": {
        "apiGroup": "string",
        "kind!": "string",
        "name!": "string",
        "namespace": "string",
    },
    "PersistentVolumeClaimStatus": {
        "phase": "string",
        "accessModes": "[string]",
        "capacity": "{Quantity}",
        "conditions": "[PersistentVolumeClaimCondition]@type",
        "allocatedResources": "{Quantity}",
        "allocatedResourceStatuses": "{string}",
        "currentVolumeAttributesClassName": "string",
        "modifyVolumeStatus": "object",
    },
    "PersistentVolumeClaimCondition": condition("lastProbeTime"),
    "PersistentVolumeClaimTemplate": {"metadata": "ObjectMeta", "spec!": "PersistentVolumeClaimSpec"},
    # --- PersistentVolume
    "PersistentVolume": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "PersistentVolumeSpec",
        "status": "PersistentVolumeStatus",
    },
    "PersistentVolumeSpec": {
        "capacity": "{Quantity}",
        "hostPath": "HostPathVolumeSource",
        "local": "LocalVolumeSource",
        **{name: "object" for name in OTHER_PV_SOURCES},
        "accessModes": "[string]",
        "claimRef": "ObjectReference",
        "persistentVolumeReclaimPolicy": "string",
        "storageClassName": "string",
        "mountOptions": "[string]",
        "volumeMode": "string",
        "nodeAffinity": "VolumeNodeAffinity",
        "volumeAttributesClassName": "string",
    },
    "LocalVolumeSource": {"path!": "string", "fsType": "string"},
    "VolumeNodeAffinity": {"required": "NodeSelector"},
    "NodeSelector": {"nodeSelectorTerms!": "[NodeSelectorTerm]"},
    "NodeSelectorTerm": {
        "matchExpressions": "[NodeSelectorRequirement]",
        "matchFields": "[NodeSelectorRequirement]",
    },
    "NodeSelectorRequirement": {"key!": "string", "operator!": "string", "values": "[string]"},
    "PersistentVolumeStatus": {
        "phase": "string",
        "message": "string",
        "reason": "string",
        "lastPhaseTransitionTime": "Time",
    },
    # --- the pod's volume source, and what a StorageClass's allowedTopologies are made of
    "PersistentVolumeClaimVolumeSource": {"claimName!": "string", "readOnly": "boolean"},
    "TopologySelectorTerm": {"matchLabelExpressions": "[TopologySelectorLabelRequirement]"},
    "TopologySelectorLabelRequirement": {"key!": "string", "values!": "[string]"},
}

STORAGE_TYPES: dict[str, dict[str, str]] = {
    "StorageClass": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "provisioner!": "string",
        "parameters": "{string}",
        "reclaimPolicy": "string",
        "mountOptions": "[string]",
        "allowVolumeExpansion": "boolean",
        "volumeBindingMode": "string",
        "allowedTopologies": "[TopologySelectorTerm]",
    },
    # --- the CSI objects (storage.k8s.io/v1 as of 1.33; stored, no driver runs: apiserver/kinds/csi.py)
    "CSIDriver": {**TYPE_META, "metadata": "ObjectMeta", "spec!": "CSIDriverSpec"},
    "CSIDriverSpec": {
        "attachRequired": "boolean",
        "podInfoOnMount": "boolean",
        "volumeLifecycleModes": "[string]@set",
        "storageCapacity": "boolean",
        "fsGroupPolicy": "string",
        "tokenRequests": "[StorageV1TokenRequest]",
        "requiresRepublish": "boolean",
        "seLinuxMount": "boolean",
        "nodeAllocatableUpdatePeriodSeconds": "integer",
    },
    "StorageV1TokenRequest": {"audience!": "string", "expirationSeconds": "integer"},
    "CSINode": {**TYPE_META, "metadata": "ObjectMeta", "spec!": "CSINodeSpec"},
    "CSINodeSpec": {"drivers!": "[CSINodeDriver]@name"},
    "CSINodeDriver": {
        "name!": "string",
        "nodeID!": "string",
        "topologyKeys": "[string]",
        "allocatable": "VolumeNodeResources",
    },
    "VolumeNodeResources": {"count": "integer"},
    "VolumeAttachment": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec!": "VolumeAttachmentSpec",
        "status": "VolumeAttachmentStatus",
    },
    "VolumeAttachmentSpec": {
        "attacher!": "string",
        "source!": "VolumeAttachmentSource",
        "nodeName!": "string",
    },
    "VolumeAttachmentSource": {"persistentVolumeName": "string", "inlineVolumeSpec": "PersistentVolumeSpec"},
    "VolumeAttachmentStatus": {
        "attached!": "boolean",
        "attachmentMetadata": "{string}",
        "attachError": "VolumeError",
        "detachError": "VolumeError",
    },
    "VolumeError": {"time": "Time", "message": "string", "errorCode": "integer"},
    "CSIStorageCapacity": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "nodeTopology": "LabelSelector",
        "storageClassName!": "string",
        "capacity": "Quantity",
        "maximumVolumeSize": "Quantity",
    },
}

STORAGE_KINDS: dict[str, str] = {
    "PersistentVolumeClaim": "v1",
    "PersistentVolume": "v1",
    "StorageClass": "storage.k8s.io/v1",
    "CSIDriver": "storage.k8s.io/v1",
    "CSINode": "storage.k8s.io/v1",
    "VolumeAttachment": "storage.k8s.io/v1",
    "CSIStorageCapacity": "storage.k8s.io/v1",
}
STORAGE_LISTED_KINDS = tuple(STORAGE_KINDS)
# table name -> kube's (authentication.k8s.io has a TokenRequest of its own)
NAMES = {"StorageV1TokenRequest": "TokenRequest"}

# the pod Volume field these types check (free-form before)
VOLUME_SOURCES = {"persistentVolumeClaim": "PersistentVolumeClaimVolumeSource"}

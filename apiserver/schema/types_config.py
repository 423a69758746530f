"""Field table of the configuration and identity kinds (core/v1 ConfigMap, Secret,
ServiceAccount) and of the volume sources that project them into pods, in the compact notation
of `types.py` (k8s.io/api core/v1 as of Kubernetes 1.33).

Kept beside `types.py` rather than in it so that each group of kinds is one small table; the
volume sources replace the free-form `object` the pod's `Volume` had for them, so a misspelt
`defaultMode` is an unknown field like any other.
"""

from __future__ import annotations

CONFIG_TYPES: dict[str, dict[str, str]] = {
    "ConfigMap": {
        "kind": "string",
        "apiVersion": "string",
        "metadata": "ObjectMeta",
        "data": "{string}",
        "binaryData": "{string}",
        "immutable": "boolean",
    },
    "Secret": {
        "kind": "string",
        "apiVersion": "string",
        "metadata": "ObjectMeta",
        "data": "{string}",
        "stringData": "{string}",
        "type": "string",
        "immutable": "boolean",
    },
    "ServiceAccount": {
        "kind": "string",
        "apiVersion": "string",
        "metadata": "ObjectMeta",
        "secrets": "[ObjectReference]@name",
        "imagePullSecrets": "[LocalObjectReference]",
        "automountServiceAccountToken": "boolean",
    },
    # --- volume sources
    "KeyToPath": {"key!": "string", "path!": "string", "mode": "integer"},
    "ConfigMapVolumeSource": {
        "name": "string",
        "items": "[KeyToPath]",
        "defaultMode": "integer",
        "optional": "boolean",
    },
    "SecretVolumeSource": {
        "secretName": "string",
        "items": "[KeyToPath]",
        "defaultMode": "integer",
        "optional": "boolean",
    },
    "DownwardAPIVolumeSource": {"items": "[DownwardAPIVolumeFile]", "defaultMode": "integer"},
    "DownwardAPIVolumeFile": {
        "path!": "string",
        "fieldRef": "ObjectFieldSelector",
        "resourceFieldRef": "ResourceFieldSelector",
        "mode": "integer",
    },
    "ProjectedVolumeSource": {"sources": "[VolumeProjection]", "defaultMode": "integer"},
    "VolumeProjection": {
        "secret": "SecretProjection",
        "downwardAPI": "DownwardAPIProjection",
        "configMap": "ConfigMapProjection",
        "serviceAccountToken": "ServiceAccountTokenProjection",
        "clusterTrustBundle": "object",
    },
    "SecretProjection": {"name": "string", "items": "[KeyToPath]", "optional": "boolean"},
    "ConfigMapProjection": {"name": "string", "items": "[KeyToPath]", "optional": "boolean"},
    "DownwardAPIProjection": {"items": "[DownwardAPIVolumeFile]"},
    "ServiceAccountTokenProjection": {
        "audience": "string",
        "expirationSeconds": "integer",
        "path!": "string",
    },
}

CONFIG_KINDS: dict[str, str] = {"ConfigMap": "v1", "Secret": "v1", "ServiceAccount": "v1"}
CONFIG_LISTED_KINDS = ("ConfigMap", "Secret", "ServiceAccount")

# the pod Volume fields these types check (they were free-form before)
VOLUME_SOURCES = {
    "secret": "SecretVolumeSource",
    "configMap": "ConfigMapVolumeSource",
    "downwardAPI": "DownwardAPIVolumeSource",
    "projected": "ProjectedVolumeSource",
}

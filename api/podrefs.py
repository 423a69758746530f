"""The ConfigMaps, Secrets and PersistentVolumeClaims a pod refers to, by name: one walk of the pod spec shared by the
kubelet (what to fetch before starting containers) and the API server's node authorizer (a node
may read only what the pods bound to it use, as kube's graph authorizer allows).

Refs come from volumes (configMap, secret, projected sources, persistentVolumeClaim), every container's env
`valueFrom` and `envFrom` (init and ephemeral containers too) and `imagePullSecrets`.
"""

from __future__ import annotations

from typing import Any

CONFIGMAPS, SECRETS = "configmaps", "secrets"
CLAIMS, VOLUMES = "persistentvolumeclaims", "persistentvolumes"  # a claim's volume is read through the claim
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"  # the annotation naming who made a volume
LOCAL_PATH_PROVISIONER = "rancher.io/local-path"  # k3s's provisioner, run by the controller manager


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        c
        for key in ("initContainers", "containers", "ephemeralContainers")
        for c in _l(spec.get(key))
        if isinstance(c, dict)
    ]


def references(pod: dict[str, Any]) -> dict[str, set[str]]:
    """{"configmaps": names, "secrets": names, "persistentvolumeclaims": names} in the pod's namespace."""
    spec = _d(pod.get("spec"))
    out: dict[str, set[str]] = {CONFIGMAPS: set(), SECRETS: set(), CLAIMS: set()}

    def add(kind: str, name: Any) -> None:
        if isinstance(name, str) and name:
            out[kind].add(name)

    for vol in _l(spec.get("volumes")):
        vol = _d(vol)
        add(CONFIGMAPS, _d(vol.get("configMap")).get("name"))
        add(SECRETS, _d(vol.get("secret")).get("secretName"))
        add(CLAIMS, _d(vol.get("persistentVolumeClaim")).get("claimName"))
        for source in _l(_d(vol.get("projected")).get("sources")):
            add(CONFIGMAPS, _d(_d(source).get("configMap")).get("name"))
            add(SECRETS, _d(_d(source).get("secret")).get("name"))
    for c in containers(spec):
        for var in _l(c.get("env")):
            src = _d(_d(var).get("valueFrom"))
            add(CONFIGMAPS, _d(src.get("configMapKeyRef")).get("name"))
            add(SECRETS, _d(src.get("secretKeyRef")).get("name"))
        for source in _l(c.get("envFrom")):
            add(CONFIGMAPS, _d(_d(source).get("configMapRef")).get("name"))
            add(SECRETS, _d(_d(source).get("secretRef")).get("name"))
    for ref in _l(spec.get("imagePullSecrets")):
        add(SECRETS, _d(ref).get("name"))
    return out

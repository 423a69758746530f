"""The ServiceAccount admission plugin's pod mutation, as kube-apiserver applies it on create.

A pod runs as `spec.serviceAccountName` (default `default`; the deprecated `serviceAccount`
mirrors it). Unless the pod sets `automountServiceAccountToken: false`, it gets the projected
volume `kube-api-access-<5 chars>` (a bound token refreshed by the kubelet, the cluster CA from
the `kube-root-ca.crt` ConfigMap, and the namespace from the downward API) mounted read-only at
/var/run/secrets/kubernetes.io/serviceaccount in every container that does not already mount
something there. Pure: the kubelet does the work of filling the files.

Not done here: kube also refuses pods naming a ServiceAccount that does not exist and honours
the ServiceAccount's own `automountServiceAccountToken`; both need a read of the account and are
left to the kubelet, which waits for the token it cannot get.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_EXPIRATION = 3607  # kube's: an hour and a bit, so refreshes are spread out
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"


def access_volume(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION, "path": "token"}},
                {"configMap": {"name": ROOT_CA_CONFIGMAP, "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
        },
    }


def mount_service_account_token(pod: dict[str, Any], suffix: Callable[[], str]) -> None:
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = spec["serviceAccount"] = account
    if spec.get("automountServiceAccountToken") is False:
        return
    containers = [
        c
        for key in ("initContainers", "containers", "ephemeralContainers")
        for c in spec.get(key) or []
        if isinstance(c, dict)
    ]
    if all(
        any(isinstance(m, dict) and m.get("mountPath") == MOUNT_PATH for m in c.get("volumeMounts") or [])
        for c in containers
    ):
        return
    volumes = spec.get("volumes")
    if volumes is not None and not isinstance(volumes, list):
        return  # the type check names it
    name = f"kube-api-access-{suffix()}"
    spec["volumes"] = [*(volumes or []), access_volume(name)]
    for c in containers:
        mounts = c.get("volumeMounts")
        if mounts is not None and not isinstance(mounts, list):
            continue
        if not any(isinstance(m, dict) and m.get("mountPath") == MOUNT_PATH for m in mounts or []):
            c["volumeMounts"] = [*(mounts or []), {"name": name, "readOnly": True, "mountPath": MOUNT_PATH}]

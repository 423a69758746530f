"""The ServiceAccount admission plugin's pod mutation, as kube-apiserver applies it on create.

A pod runs as `spec.serviceAccountName` (default `default`; the deprecated `serviceAccount`
mirrors it). Unless automounting is off, it gets the projected volume `kube-api-access-<5 chars>` (a bound token refreshed by the kubelet, the cluster CA from
the `kube-root-ca.crt` ConfigMap, and the namespace from the downward API) mounted read-only at
/var/run/secrets/kubernetes.io/serviceaccount in every container that does not already mount
something there; the kubelet does the work of filling the files.

As kube's plugin, the pod's own `automountServiceAccountToken` wins, else its ServiceAccount's,
else true; a pod without `imagePullSecrets` gets its account's; and a pod naming a
ServiceAccount that does not exist is refused (403, kube's message). The accounts are looked up in a `ServiceAccountCache` (a StoreMirror: no store read
per pod create); a miss is confirmed by one store read, as kube's live lookup does. A missing
`default` account is admitted as if it had no opinion (kube refuses, after retrying its read
for a while): the serviceaccounts controller makes it only shortly after its namespace, not
every caller creating pods right after a namespace retries a refusal, and a server run without
the controllers (most tests, the benches) has no `default` account at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api import jsonutil
from api.errors import forbidden
from apiserver.mirror import ParsedMirror
from apiserver.storage.interface import Store

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


def account_name(pod: dict[str, Any]) -> str | None:
    """The ServiceAccount a pod runs as (defaulted to `default` in the spec); None for a shapeless pod."""
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return None
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = spec["serviceAccount"] = account
    return str(account)


def mount_service_account_token(
    pod: dict[str, Any], suffix: Callable[[], str], account_automount: bool | None = None
) -> None:
    """Mount the token volume unless the pod (first) or its ServiceAccount (`account_automount`)
    says `automountServiceAccountToken: false` (kube's shouldAutomount)."""
    if account_name(pod) is None:
        return
    spec = pod["spec"]
    automount = spec.get("automountServiceAccountToken")
    if automount is False or (automount is None and account_automount is False):
        return
    containers = [
        c
        for key in ("initContainers", "containers", "ephemeralContainers")
        if isinstance(spec.get(key), list)  # anything else is named by the type check
        for c in spec[key]
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
    # a pod that has a token volume already (a copy of another, `kubectl debug --copy-to`) has its
    # other containers mount that one, as kube reuses it, rather than get a second
    existing = next(
        (
            str(v["name"])
            for v in volumes or []
            if isinstance(v, dict) and str(v.get("name") or "").startswith("kube-api-access-")
        ),
        None,
    )
    name = existing or f"kube-api-access-{suffix()}"
    if existing is None:
        spec["volumes"] = [*(volumes or []), access_volume(name)]
    for c in containers:
        mounts = c.get("volumeMounts")
        if mounts is not None and not isinstance(mounts, list):
            continue
        if not any(isinstance(m, dict) and m.get("mountPath") == MOUNT_PATH for m in mounts or []):
            c["volumeMounts"] = [*(mounts or []), {"name": name, "readOnly": True, "mountPath": MOUNT_PATH}]


# what admission reads of a ServiceAccount: (automountServiceAccountToken, imagePullSecrets names)
Account = tuple[bool | None, tuple[str, ...]]


class ServiceAccountCache(ParsedMirror[Account]):
    """What admission reads of every ServiceAccount, by "namespace/name", kept by a watch."""

    PREFIX = "/registry/serviceaccounts/"

    def __init__(self, store: Store) -> None:
        super().__init__(store, self.PREFIX, _account_of)

    async def lookup(self, namespace: str, name: str) -> Account | None:
        """The account, None when it does not exist. A miss is confirmed by a store read (another
        server's write may not have arrived), except a missing `default` once the cache is synced:
        it is admitted anyway, and servers without the controllers (tests, benches) would pay a read
        on every pod create."""
        key = f"{namespace}/{name}"
        hit = self.items.get(key)
        if hit is not None or (name == "default" and self.mirror.synced.is_set()):
            return hit
        return await self.read(key)


def _account_of(value: bytes) -> Account:
    sa = jsonutil.loads(value)
    flag = sa.get("automountServiceAccountToken")
    secrets = sa.get("imagePullSecrets")
    names = (
        tuple(str(r["name"]) for r in secrets if isinstance(r, dict) and r.get("name"))
        if isinstance(secrets, list)
        else ()
    )
    return (flag if isinstance(flag, bool) else None), names


async def admit_pod(
    accounts: ServiceAccountCache, namespace: str, pod: dict[str, Any], suffix: Callable[[], str]
) -> None:
    """kube's ServiceAccount admission of a pod create: refuse a missing (non-default) account,
    else mount the token as the pod and its account say, and give a pod without imagePullSecrets
    the account's."""
    name = account_name(pod)
    if name is None or not isinstance(pod["spec"]["serviceAccountName"], str):
        return  # the type check names it
    spec = pod["spec"]
    account = await accounts.lookup(namespace, name)
    if account is None and name != "default":
        pod_name = (pod.get("metadata") or {}).get("name") or ""
        subject = f'pods "{pod_name}"' if pod_name else "pods"
        err = forbidden(
            f"{subject} is forbidden: error looking up service account {namespace}/{name}: "
            f'serviceaccount "{name}" not found'
        )
        err.details = {"name": pod_name, "kind": "pods"}
        raise err
    automount, pull_secrets = account or (None, ())
    mount_service_account_token(pod, suffix, automount)
    if pull_secrets and not spec.get("imagePullSecrets"):
        spec["imagePullSecrets"] = [{"name": n} for n in pull_secrets]

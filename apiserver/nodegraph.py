"""What a node may read: only the ConfigMaps and Secrets that pods bound to it use, and tokens only
for the ServiceAccounts those pods run as.

kube-apiserver's Node authorizer keeps a graph of pods, nodes and the objects pods refer to; a
kubelet's GET of a Secret passes only when an edge leads from its node to that Secret. kubelite
answers the same question at request time: the pods of that namespace bound to the node (the
bytes are tested for the node's and the object's names before anything is parsed) and their
references (`api.podrefs`, the same walk the kubelet uses to decide what to fetch).
"""

from __future__ import annotations

from api import jsonutil
from api.errors import ApiError, forbidden
from api.podrefs import CLAIMS as CLAIMS_KEY
from api.podrefs import references
from api.resources import by_plural
from apiserver.auth import User
from apiserver.registry import Registry

GUARDED = frozenset({"configmaps", "secrets", "serviceaccounts"})
GUARDED |= {"persistentvolumeclaims", "persistentvolumes"}  # claims as refs; volumes through claims
PODS = by_plural("", "pods")
CLAIMS = by_plural("", "persistentvolumeclaims")


async def ingress_tls_secret(registry: Registry, namespace: str, name: str) -> bool:
    """A TLS Secret an Ingress of the namespace names: every agent runs an ingress controller that
    serves it (kubelet/ingress), so a node may read it (kube would give that controller its own
    credential; kubelite's agent has the node's)."""
    ingresses = by_plural("networking.k8s.io", "ingresses")
    assert ingresses is not None
    _, kvs = await registry.list(ingresses, namespace)
    needle = f'"secretName":"{name}"'.encode()
    for kv in kvs:
        if needle in kv.value and any(tls.get("secretName") == name for tls in
                                      (jsonutil.loads(kv.value).get("spec") or {}).get("tls") or []):
            return True
    return False


async def check(registry: Registry, user: User, resource: str, namespace: str | None, name: str) -> None:
    """403 worded as the Node authorizer unless a pod on the user's node refers to the object."""
    if resource == "persistentvolumes":
        await check_volume(registry, user, name)
        return
    node = user.node_name
    if node is None or namespace is None:
        return  # a node credential that did not name its node is held to the verb rules only
    assert PODS is not None
    if resource == "secrets" and await ingress_tls_secret(registry, namespace, name):
        return
    _, kvs = await registry.list(PODS, namespace)
    node_bytes, name_bytes = f'"nodeName":"{node}"'.encode(), f'"{name}"'.encode()
    for kv in kvs:
        if node_bytes not in kv.value or (name_bytes not in kv.value and name != "default"):
            continue
        pod = jsonutil.loads(kv.value)
        spec = pod.get("spec") or {}
        if spec.get("nodeName") != node:
            continue
        if resource == "serviceaccounts":
            if (spec.get("serviceAccountName") or "default") == name:
                return
        elif name in references(pod)[resource]:
            return
    verb, what = ("create", "serviceaccounts/token") if resource == "serviceaccounts" else ("get", resource)
    raise forbidden(
        f'{resource} "{name}" is forbidden: User "{user.name}" cannot {verb} resource "{what}" in API group "" '
        f'in the namespace "{namespace}": no relationship found between node \'{node}\' and this object'
    )


async def check_volume(registry: Registry, user: User, name: str) -> None:
    """A PersistentVolume is the node's to read when a claim its pods use is bound to it (the graph's
    pod -> claim -> volume edges)."""
    node = user.node_name
    if node is None:
        return
    assert PODS is not None and CLAIMS is not None
    _, kvs = await registry.list(PODS, None)
    node_bytes = f'"nodeName":"{node}"'.encode()
    for kv in kvs:
        if node_bytes not in kv.value or b'"persistentVolumeClaim"' not in kv.value:
            continue
        pod = jsonutil.loads(kv.value)
        if (pod.get("spec") or {}).get("nodeName") != node:
            continue
        namespace = (pod.get("metadata") or {}).get("namespace")
        for claim_name in references(pod)[CLAIMS_KEY]:
            try:
                claim = jsonutil.loads((await registry.get(CLAIMS, namespace, claim_name)).value)
            except ApiError:
                continue
            if (claim.get("spec") or {}).get("volumeName") == name:
                return
    raise forbidden(
        f'persistentvolumes "{name}" is forbidden: User "{user.name}" cannot get resource "persistentvolumes" in API '
        f"group \"\" at the cluster scope: no relationship found between node '{node}' and this object"
    )

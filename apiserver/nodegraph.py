"""What a node may read: only the ConfigMaps and Secrets that pods bound to it use.

kube-apiserver's Node authorizer keeps a graph of pods, nodes and the objects pods refer to; a
kubelet's GET of a Secret passes only when an edge leads from its node to that Secret. kubelite
answers the same question at request time: the pods of that namespace bound to the node (the
bytes are tested for the node's and the object's names before anything is parsed) and their
references (`api.podrefs`, the same walk the kubelet uses to decide what to fetch).
"""

from __future__ import annotations

from api import jsonutil
from api.errors import forbidden
from api.podrefs import references
from api.resources import by_plural
from apiserver.auth import User
from apiserver.registry import Registry

GUARDED = frozenset({"configmaps", "secrets"})
PODS = by_plural("", "pods")


async def check(registry: Registry, user: User, resource: str, namespace: str | None, name: str) -> None:
    """403 worded as the Node authorizer unless a pod on the user's node refers to the object."""
    node = user.node_name
    if node is None or namespace is None:
        return  # a node credential that did not name its node is held to the verb rules only
    assert PODS is not None
    _, kvs = await registry.list(PODS, namespace)
    node_bytes, name_bytes = f'"nodeName":"{node}"'.encode(), f'"{name}"'.encode()
    for kv in kvs:
        if node_bytes not in kv.value or name_bytes not in kv.value:
            continue
        pod = jsonutil.loads(kv.value)
        if (pod.get("spec") or {}).get("nodeName") == node and name in references(pod)[resource]:
            return
    raise forbidden(
        f'{resource} "{name}" is forbidden: User "{user.name}" cannot get resource "{resource}" in API group "" '
        f'in the namespace "{namespace}": no relationship found between node \'{node}\' and this object'
    )

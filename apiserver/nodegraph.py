"""What a node may read: only the ConfigMaps, Secrets and claims that pods bound to it use (and the
volumes bound to those claims), and tokens only for the ServiceAccounts those pods run as.

kube-apiserver's Node authorizer keeps a graph of pods, nodes and the objects pods refer to; a
kubelet's GET of a Secret passes only when an edge leads from its node to that Secret. kubelite
keeps the same graph (`NodeGraph`): a watched mirror of the pods, each bound pod contributing the
edges node -> (namespace, resource, name) its spec names (`api.podrefs`, the same walk the
kubelet uses to decide what to fetch), so a check is a dictionary lookup whatever the number of
pods. A miss is confirmed against the store before it is refused (a pod bound a moment ago may not
have reached the mirror yet), so the graph only ever makes the answer faster, never different.

A node may also list or watch a ConfigMap or Secret, but only one at a time: a collection request
in a namespace whose field selector requires `metadata.name=<name>` is judged as a read of that
name (kube's RequestInfo takes the name from that selector; the kubelet's Watch strategy watches
each object its pods use so). Any other list or watch of them is refused.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from api import jsonutil
from api.errors import ApiError
from api.podrefs import CLAIMS as CLAIMS_KEY
from api.podrefs import references
from api.resources import by_plural
from api.selectors import parse_field_selector
from apiserver.auth import User, node_forbidden
from apiserver.mirror import StoreMirror
from apiserver.registry import Registry
from apiserver.storage.interface import Store

GUARDED = frozenset({"configmaps", "secrets", "serviceaccounts"})
GUARDED |= {"persistentvolumeclaims", "persistentvolumes"}  # claims as refs; volumes through claims
PODS = by_plural("", "pods")
CLAIMS = by_plural("", "persistentvolumeclaims")
Edge = tuple[str, str, str, str]  # (node, namespace, resource, name)


def pod_edges(pod: dict[str, Any]) -> tuple[str, frozenset[Edge]]:
    """The node a pod is bound to and the edges it gives that node (pure)."""
    spec = pod.get("spec") or {}
    node = spec.get("nodeName") or ""
    if not node:
        return "", frozenset()
    ns = (pod.get("metadata") or {}).get("namespace") or ""
    edges = {(node, ns, resource, name) for resource, names in references(pod).items() for name in names}
    edges.add((node, ns, "serviceaccounts", spec.get("serviceAccountName") or "default"))
    return node, frozenset(edges)


class NodeGraph:
    PREFIX = "/registry/pods/"

    def __init__(self, store: Store) -> None:
        self.by_pod: dict[str, frozenset[Edge]] = {}
        self.edges: Counter[Edge] = Counter()
        # pod key -> the bytes naming its node and uid, as stored: an update showing both is the same
        # bound pod
        self._identity: dict[str, tuple[bytes, ...]] = {}
        self.mirror = StoreMirror(store, self.PREFIX, self._changed, self._clear)

    def _clear(self) -> None:
        self.by_pod.clear()
        self.edges.clear()
        self._identity.clear()

    def _changed(self, key: str, value: bytes | None) -> None:
        same = self._identity.get(key)
        if (
            value is not None
            and same is not None
            and all(part in value for part in same)
            and b'"ephemeralContainers"' not in value
        ):
            # the same pod (uid) on the same node: the names its spec refers to are immutable, so
            # its edges stand (kube's graph populator skips such updates too) and a kubelet's
            # status write costs no parse here
            return
        self._identity.pop(key, None)
        old = self.by_pod.pop(key, None)
        if old:
            self.edges.subtract(old)
            for edge in old:
                if self.edges[edge] <= 0:
                    del self.edges[edge]
        if value is None or b'"nodeName"' not in value:
            return
        obj = jsonutil.loads(value)
        node, edges = pod_edges(obj)
        if edges:
            self.by_pod[key] = edges
            self.edges.update(edges)
            uid = (obj.get("metadata") or {}).get("uid")
            self._identity[key] = (jsonutil.dumps({"nodeName": node})[1:-1],) + (
                (jsonutil.dumps({"uid": uid})[1:-1],) if uid else ()
            )

    def allows(self, node: str, namespace: str, resource: str, name: str) -> bool:
        return (node, namespace, resource, name) in self.edges

    def claims_of(self, node: str) -> list[tuple[str, str]]:
        return [(ns, name) for (n, ns, resource, name) in self.edges if n == node and resource == CLAIMS_KEY]


def listed_name(
    user: User, verb: str, resource: str, namespace: str | None, field_selector: str | None
) -> str:
    """The one object a node's list/watch of ConfigMaps or Secrets is limited to by its field selector
    (`metadata.name=<name>`, within a namespace); 403 worded as the Node authorizer when there is none."""
    name = parse_field_selector(field_selector).value_of("metadata.name")
    if name and namespace:
        return name
    reason = "No Object name found" if namespace else "can only read namespaced object of this type"
    raise node_forbidden(user, verb, resource, namespace, None, reason=reason)


async def ingress_tls_secret(registry: Registry, namespace: str, name: str) -> bool:
    """A TLS Secret an Ingress of the namespace names: every agent runs an ingress controller that
    serves it (kubelet/ingress), so a node may read it (kube would give that controller its own
    credential; kubelite's agent has the node's)."""
    ingresses = by_plural("networking.k8s.io", "ingresses")
    assert ingresses is not None
    _, kvs = await registry.list(ingresses, namespace)
    needle = f'"secretName":"{name}"'.encode()
    for kv in kvs:
        if needle in kv.value and any(
            tls.get("secretName") == name
            for tls in (jsonutil.loads(kv.value).get("spec") or {}).get("tls") or []
        ):
            return True
    return False


async def _in_store(registry: Registry, node: str, namespace: str, resource: str, name: str) -> bool:
    """The slow confirmation of a miss: the namespace's pods as stored now."""
    assert PODS is not None
    _, kvs = await registry.list(PODS, namespace)
    node_bytes = f'"nodeName":"{node}"'.encode()
    for kv in kvs:
        if (
            node_bytes in kv.value
            and (node, namespace, resource, name) in pod_edges(jsonutil.loads(kv.value))[1]
        ):
            return True
    return False


async def check(
    registry: Registry,
    graph: NodeGraph | None,
    user: User,
    resource: str,
    namespace: str | None,
    name: str,
    verb: str = "get",
) -> None:
    """403 worded as the Node authorizer unless a pod on the user's node refers to the object (`verb`:
    get, or list/watch limited to its name)."""
    if resource == "persistentvolumes":
        await check_volume(registry, graph, user, name)
        return
    node = user.node_name
    if node is None or namespace is None:
        return  # a node credential that did not name its node is held to the verb rules only
    if graph is not None and graph.allows(node, namespace, resource, name):
        return
    if resource == "secrets" and await ingress_tls_secret(registry, namespace, name):
        return
    if await _in_store(registry, node, namespace, resource, name):
        return
    verb, sub = ("create", "token") if resource == "serviceaccounts" else (verb, "")
    raise node_forbidden(user, verb, resource, namespace, sub, name, _NO_RELATIONSHIP.format(node=node))


async def check_volume(registry: Registry, graph: NodeGraph | None, user: User, name: str) -> None:
    """A PersistentVolume is the node's to read when a claim its pods use is bound to it (the graph's
    pod -> claim -> volume edges)."""
    node = user.node_name
    if node is None:
        return
    assert PODS is not None and CLAIMS is not None
    if graph is not None:
        claims = graph.claims_of(node)
    else:
        _, kvs = await registry.list(PODS, None)
        claims = [
            (e[1], e[3])
            for kv in kvs
            if f'"nodeName":"{node}"'.encode() in kv.value
            for e in pod_edges(jsonutil.loads(kv.value))[1]
            if e[2] == CLAIMS_KEY
        ]
    for namespace, claim_name in claims:
        try:
            claim = jsonutil.loads((await registry.get(CLAIMS, namespace, claim_name)).value)
        except ApiError:
            continue
        if (claim.get("spec") or {}).get("volumeName") == name:
            return
    raise node_forbidden(
        user, "get", "persistentvolumes", None, None, name, _NO_RELATIONSHIP.format(node=node)
    )


_NO_RELATIONSHIP = "no relationship found between node '{node}' and this object"

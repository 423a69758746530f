"""The `kube-dns` Service and its Endpoints: the cluster DNS address, backed by the nodes' DNS servers.

Every agent runs a DNS server on its node address (kubelet/dns); an agent whose server
listens marks its Node with the annotation `dns.kubelite.io/serving`. This controller keeps
what a pod's resolv.conf points at: the Service `kube-system/kube-dns` with the fixed
ClusterIP the kubelets are told (`--cluster-dns`, 10.96.0.10 by default, the tenth address
of the service range as kubeadm picks it), ports `dns` 53/UDP and `dns-tcp` 53/TCP and no
selector (so the endpoints controller leaves its Endpoints alone), created when missing and
otherwise left as it is (an add-on manager's EnsureExists). Its Endpoints are recomputed from
the Nodes on every change (`dns_subsets`, pure): the addresses of Ready serving nodes, the
others as not ready, so the service proxy sends queries only to live servers. Level-triggered
on one key: any node, service or endpoints event of interest enqueues it.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from api.conditions import is_ready
from api.errors import ApiError
from api.informer import DeletedFinalStateUnknown, Informer
from controller.base import ApiClient, Obj, QueueController, meta, unwrap
from controller.endpoints import write_endpoints

log = logging.getLogger(__name__)

NAMESPACE = "kube-system"
NAME = "kube-dns"
KEY = f"{NAMESPACE}/{NAME}"
SERVING_ANNOTATION = "dns.kubelite.io/serving"
DNS_PORT = 53
LABELS = {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "KubeDNS"}
PORTS = [
    {"name": "dns", "port": DNS_PORT, "protocol": "UDP"},
    {"name": "dns-tcp", "port": DNS_PORT, "protocol": "TCP"},
]


def default_dns_ip(service_cidr: str) -> str:
    """The tenth address of the service range, as kubeadm picks it (10.96.0.10 in 10.96.0.0/12 or /16)."""
    return str(ipaddress.ip_network(service_cidr, strict=False).network_address + 10)


def service_body(cluster_ip: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(LABELS)},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "sessionAffinity": "None",
            "ports": [dict(p, targetPort=DNS_PORT) for p in PORTS],
        },
    }


def node_address(node: Obj) -> str:
    addrs = (node.get("status") or {}).get("addresses") or []
    for kind in ("InternalIP", "ExternalIP"):
        for a in addrs:
            if a.get("type") == kind and a.get("address"):
                return str(a["address"])
    return ""


def node_ready(node: Obj) -> bool:
    return is_ready(node)


def dns_subsets(nodes: list[Obj]) -> list[Obj]:
    """One subset: serving nodes' addresses, Ready ones in `addresses`, the others in `notReadyAddresses`."""
    ready: list[Obj] = []
    unready: list[Obj] = []
    for node in nodes:
        m = meta(node)
        ip = node_address(node)
        if (
            not ip
            or (m.get("annotations") or {}).get(SERVING_ANNOTATION) != "true"
            or m.get("deletionTimestamp")
        ):
            continue
        addr = {
            "ip": ip,
            "nodeName": m.get("name"),
            "targetRef": {"kind": "Node", "name": m.get("name"), "uid": m.get("uid")},
        }
        (ready if node_ready(node) else unready).append(addr)
    if not ready and not unready:
        return []
    subset: Obj = {}
    if ready:
        subset["addresses"] = sorted(ready, key=lambda a: a["ip"])
    if unready:
        subset["notReadyAddresses"] = sorted(unready, key=lambda a: a["ip"])
    subset["ports"] = [dict(p) for p in PORTS]
    return [subset]


class KubeDnsController(QueueController):
    name = "kubedns"

    def __init__(
        self,
        client: ApiClient,
        nodes: Informer,
        services: Informer,
        endpoints: Informer,
        cluster_ip: str = "10.96.0.10",
    ) -> None:
        super().__init__(workers=1)
        self.client = client
        self.nodes = nodes
        self.services = services
        self.endpoints = endpoints
        self.cluster_ip = cluster_ip
        nodes.add_handlers(self._any, lambda old, new: self._node_updated(old, new), self._any)
        for inf in (services, endpoints):
            inf.add_handlers(self._ours, lambda _old, new: self._ours(new), self._ours)

    def _any(self, _obj: Any = None) -> None:
        self.enqueue(KEY)

    def _node_updated(self, old: Obj, new: Obj) -> None:
        # a heartbeat that changes neither readiness, address nor annotation changes nothing here
        if (node_ready(old), node_address(old), meta(old).get("annotations")) != (
            node_ready(new),
            node_address(new),
            meta(new).get("annotations"),
        ):
            self.enqueue(KEY)

    def _ours(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        m = meta(unwrap(obj))
        if m.get("namespace") == NAMESPACE and m.get("name") == NAME:
            self.enqueue(KEY)

    async def run(self, *informers: Informer) -> None:
        self.enqueue(KEY)
        await super().run(self.nodes, self.services, self.endpoints, *informers)

    async def sync(self, key: str) -> None:
        if self.services.get(KEY) is None:
            try:
                await self.client.create("services", service_body(self.cluster_ip), NAMESPACE)
                log.info("created service %s with clusterIP %s", KEY, self.cluster_ip)
            except ApiError as e:
                if e.code != 409:
                    raise
        want = dns_subsets(self.nodes.list())
        cur = self.endpoints.get(KEY)
        if cur is not None and (cur.get("subsets") or []) == want:
            return
        await write_endpoints(
            self.client,
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(LABELS)},
                "subsets": want,
            },
            cur,
        )

"""The endpoints controller: one Endpoints object per service with a selector.

Pure `subsets(service, pods)` decides the content: pods with an IP and no deletionTimestamp,
Ready ones in `addresses`, the others in `notReadyAddresses`, each with `targetRef` and
`nodeName`; ports resolved from `targetPort` by number or by the container port's name, so
pods exposing a named port on different numbers land in different subsets. The shell writes
only when the content changed, reacting to pod and service events.
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError
from api.informer import DeletedFinalStateUnknown, Informer
from api.selectors import selector_from_map
from controller.base import ApiClient, Obj, QueueController, meta, unwrap
from controller.replicas import is_ready


def resolve_port(svc_port: Obj, pod: Obj) -> int | None:
    target = svc_port.get("targetPort", svc_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    proto = svc_port.get("protocol") or "TCP"
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target and (p.get("protocol") or "TCP") == proto:
                return int(p["containerPort"])
    return None


def subsets(service: Obj, pods: list[Obj]) -> list[Obj]:
    ports_spec = (service.get("spec") or {}).get("ports") or []
    publish_all = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    groups: dict[tuple[Any, ...], dict[str, list[Obj]]] = {}
    for pod in pods:
        m, st = meta(pod), pod.get("status") or {}
        if m.get("deletionTimestamp") or not st.get("podIP"):
            continue
        ports = []
        for sp in ports_spec:
            num = resolve_port(sp, pod)
            if num is None:
                continue
            p = {"port": num, "protocol": sp.get("protocol") or "TCP"}
            if sp.get("name"):
                p["name"] = sp["name"]
            ports.append(p)
        if ports_spec and not ports:
            continue
        addr: Obj = {
            "ip": st["podIP"],
            "targetRef": {
                "kind": "Pod",
                "namespace": m.get("namespace"),
                "name": m.get("name"),
                "uid": m.get("uid"),
            },
        }
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            addr["nodeName"] = node
        pod_spec = pod.get("spec") or {}
        if pod_spec.get("hostname") and pod_spec.get("subdomain") == meta(service).get("name"):
            addr["hostname"] = pod_spec["hostname"]  # <hostname>.<service>.<ns>.svc in cluster DNS
        k = tuple((p.get("name", ""), p["port"], p["protocol"]) for p in ports)
        g = groups.setdefault(k, {"ports": ports, "addresses": [], "notReadyAddresses": []})
        g["addresses" if publish_all or is_ready(pod) else "notReadyAddresses"].append(addr)
    out = []
    for k in sorted(groups):
        g = groups[k]
        s: Obj = {}
        for field in ("addresses", "notReadyAddresses"):
            if g[field]:
                s[field] = sorted(g[field], key=lambda a: (a["ip"], a["targetRef"]["name"]))
        if g["ports"]:
            s["ports"] = g["ports"]
        out.append(s)
    return out


class EndpointsController(QueueController):
    name = "endpoints"

    def __init__(
        self, client: ApiClient, services: Informer, pods: Informer, endpoints: Informer, workers: int = 4
    ) -> None:
        super().__init__(workers)
        self.client = client
        self.services = services
        self.pods = pods
        self.endpoints = endpoints
        services.add_handlers(self.enqueue, lambda o, n: self.enqueue(n), self.enqueue)
        pods.add_handlers(self._pod_changed, self._pod_updated, self._pod_deleted)
        endpoints.add_handlers(on_delete=self.enqueue)

    async def run(self, *informers: Informer) -> None:
        await super().run(self.services, self.pods, self.endpoints, *informers)

    def _services_for(self, pod: Obj) -> None:
        labels = meta(pod).get("labels") or {}
        for svc in self.services.list(meta(pod).get("namespace")):
            sel = (svc.get("spec") or {}).get("selector")
            if sel and selector_from_map(sel).matches(labels):
                self.enqueue(svc)

    def _pod_changed(self, pod: Obj) -> None:
        self._services_for(pod)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        self._services_for(new)
        if meta(old).get("labels") != meta(new).get("labels"):
            self._services_for(old)

    def _pod_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self._services_for(unwrap(obj))

    async def sync(self, key: str) -> None:
        svc = self.services.get(key)
        ns, _, name = key.partition("/")
        if svc is None:
            if self.endpoints.get(key) is not None:
                try:
                    await self.client.delete("endpoints", name, ns)
                except ApiError as e:
                    if e.code != 404:
                        raise
            return
        sel = (svc.get("spec") or {}).get("selector")
        if not sel:
            return  # a service without selector has hand-made endpoints
        want = subsets(svc, self.pods.list(ns, selector_from_map(sel)))
        cur = self.endpoints.get(key)
        labels = dict(meta(svc).get("labels") or {})
        if (
            cur is not None
            and (cur.get("subsets") or []) == want
            and (meta(cur).get("labels") or {}) == labels
        ):
            return
        await write_endpoints(
            self.client,
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": name, "namespace": ns, "labels": labels},
                "subsets": want,
            },
            cur,
        )


async def write_endpoints(client: ApiClient, body: Obj, cur: Obj | None) -> None:
    """Store `body` over the cached Endpoints `cur`: create it when the cache has none (an
    AlreadyExists means the cache is behind: read it and update), else update at its version."""
    name, ns = body["metadata"]["name"], body["metadata"]["namespace"]
    if cur is None:
        try:
            await client.create("endpoints", body, ns)
            return
        except ApiError as e:
            if e.code != 409:
                raise
            cur = await client.get("endpoints", name, ns)
    body["metadata"]["resourceVersion"] = meta(cur).get("resourceVersion")
    await client.update("endpoints", body, ns)

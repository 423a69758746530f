"""The ClusterView the DNS answers read: the agent's informer caches, plus two small indexes.

Lookups by name go straight to the caches (`namespace/name` keys). Two questions are by
address, which the caches cannot answer without a scan: which pod namespaces hold an IP
(`<a-b-c-d>.<ns>.pod`) and which names an IP has (PTR). Pod IPs are indexed as pod events
arrive (the index is a function of the cache, kept like a client-go indexer: handlers only
move keys, no I/O); the PTR index is rebuilt on the first reverse query after a service or
endpoints change, which are rare next to queries. The view also says what an answer was
made of (`start_reads`/`stop_reads`: the objects and index generations read) and whether that
still holds (`unchanged`), so the server can keep rendered answers exactly as long as they
are true: a change to one service invalidates only the answers that read it.
"""

from __future__ import annotations

from typing import Any

from api.informer import DeletedFinalStateUnknown, Informer, deleted_object
from kubelet.dns.records import endpoint_host, ready_addresses

Obj = dict[str, Any]


Read = tuple[str, str, Any]  # ("svc" | "ep", cache key, object seen) or ("gen", attribute, value seen)


class InformerView:
    def __init__(self, services: Informer, endpoints: Informer, pods: Informer | None = None) -> None:
        self.services = services
        self.endpoints_informer = endpoints
        self.services_generation = 0  # any service or endpoints change (namespaces, PTR)
        self.pods_generation = 0  # any change of a pod's IP or namespace
        self._reads: list[Read] | None = None
        self._ptr: dict[str, list[str]] | None = None
        self._pod_ips: dict[tuple[str, str], set[str]] = {}  # (namespace, ip) -> pod keys
        self._pod_of: dict[str, tuple[str, str]] = {}  # pod key -> (namespace, ip)
        self._pod_namespaces: dict[str, int] = {}
        for inf in (services, endpoints):
            inf.add_handlers(self._stale, lambda _old, _new: self._stale(), self._stale)
        if pods is not None:
            pods.add_handlers(self._pod_seen, lambda _old, new: self._pod_seen(new), self._pod_gone)

    # --- the ClusterView ------------------------------------------------------------------
    def service(self, namespace: str, name: str) -> Obj | None:
        key = f"{namespace}/{name}"
        obj = self.services.get(key)
        if self._reads is not None:
            self._reads.append(("svc", key, obj))
        return obj

    def endpoints(self, namespace: str, name: str) -> Obj | None:
        key = f"{namespace}/{name}"
        obj = self.endpoints_informer.get(key)
        if self._reads is not None:
            self._reads.append(("ep", key, obj))
        return obj

    def namespace_known(self, namespace: str) -> bool:
        self._read_generation("services_generation")
        self._read_generation("pods_generation")
        return namespace in self._pod_namespaces or bool(self.services.list(namespace))

    def pod_ip_in(self, namespace: str, ip: str) -> bool:
        self._read_generation("pods_generation")
        return bool(self._pod_ips.get((namespace, ip)))

    def names_for_ip(self, ip: str) -> list[str]:
        self._read_generation("services_generation")
        if self._ptr is None:
            self._ptr = ptr_index(self.services.list(), self.endpoints_informer)
        return self._ptr.get(ip, [])

    # --- what an answer was made of, and whether it still holds -----------------------------
    def start_reads(self) -> None:
        self._reads = []

    def stop_reads(self) -> list[Read]:
        reads, self._reads = self._reads or [], None
        return reads

    def unchanged(self, reads: list[Read]) -> bool:
        """True while every object read is still the cached one (informers replace, never mutate, an
        object on change) and every index read is at the same generation."""
        for kind, key, seen in reads:
            if kind == "svc":
                if self.services.get(key) is not seen:
                    return False
            elif kind == "ep":
                if self.endpoints_informer.get(key) is not seen:
                    return False
            elif getattr(self, key) != seen:
                return False
        return True

    def _read_generation(self, name: str) -> None:
        if self._reads is not None:
            self._reads.append(("gen", name, getattr(self, name)))

    # --- keeping the indexes ---------------------------------------------------------------
    def _stale(self, _obj: Any = None) -> None:
        self._ptr = None
        self.services_generation += 1

    def _pod_seen(self, pod: Obj) -> None:
        meta = pod.get("metadata") or {}
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        ip = (pod.get("status") or {}).get("podIP") or ""
        now = (str(meta.get("namespace") or ""), ip)
        if self._pod_of.get(key) == now:
            return
        self._forget(key)
        self.pods_generation += 1
        self._pod_of[key] = now
        self._pod_namespaces[now[0]] = self._pod_namespaces.get(now[0], 0) + 1
        if ip:
            self._pod_ips.setdefault(now, set()).add(key)

    def _pod_gone(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        meta = deleted_object(obj).get("metadata") or {}
        self._forget(f"{meta.get('namespace')}/{meta.get('name')}")

    def _forget(self, key: str) -> None:
        old = self._pod_of.pop(key, None)
        if old is None:
            return
        self.pods_generation += 1
        left = self._pod_namespaces.get(old[0], 1) - 1
        if left:
            self._pod_namespaces[old[0]] = left
        else:
            self._pod_namespaces.pop(old[0], None)
        keys = self._pod_ips.get(old)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._pod_ips[old]


def ptr_index(services: list[Obj], endpoints: Any) -> dict[str, list[str]]:
    """IP -> names relative to the zone: `<svc>.<ns>.svc` for ClusterIPs, and
    `<hostname>.<svc>.<ns>.svc` for ready endpoints of headless services that have a hostname."""
    out: dict[str, list[str]] = {}
    for svc in services:
        meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
        ns, name = meta.get("namespace", "default"), meta.get("name", "")
        ip = spec.get("clusterIP")
        if ip and ip != "None":
            out.setdefault(ip, []).append(f"{name}.{ns}.svc")
            continue
        if spec.get("type") == "ExternalName":
            continue
        for addr, _ in ready_addresses(endpoints.get(f"{ns}/{name}"), svc):
            if addr.get("hostname"):
                out.setdefault(addr["ip"], []).append(f"{endpoint_host(addr)}.{name}.{ns}.svc")
    return out

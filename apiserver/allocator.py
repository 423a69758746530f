"""Service cluster IPs and NodePorts, handed out once across restarts and API servers.

Every allocation is a key in the store (`/registry/allocations/clusterips/<ip>`,
`/registry/allocations/nodeports/<port>`) made with `create()`, which is atomic on SQLite and
on PostgreSQL alike: two servers racing for one IP cannot both win, and a restart reads the
truth from the store. Random probing finds a free value in a mostly-empty range quickly; once
probing keeps failing, one listing of the allocations finds the free values that remain.
The first address of the service range belongs to the `kubernetes` service, as in kube.
A LoadBalancer with externalTrafficPolicy Local also holds a `healthCheckNodePort`, drawn from
the same range under the same keys, so it never collides with any service's node port.
A dry-run write is given values the same way, looked up and not claimed (`dry_run()`).
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

from api.errors import ApiError, field_invalid, internal, invalid
from apiserver.storage.interface import KeyExistsError, KeyNotFoundError, Store
from apiserver.validation.service import externally_accessible, needs_health_check

IP_PREFIX = "/registry/allocations/clusterips/"
PORT_PREFIX = "/registry/allocations/nodeports/"
NODE_PORT_RANGE = (30000, 32767)
_PROBES = 32
_NEEDS_NODE_PORTS = ("NodePort", "LoadBalancer")


class Allocator:
    def __init__(self, store: Store, service_cidr: str) -> None:
        self.store = store
        self.network = ipaddress.ip_network(service_cidr, strict=False)
        self.first_ip = str(self.network.network_address + 1)
        self._size = self.network.num_addresses - 2  # no network nor broadcast address

    # --- primitives -----------------------------------------------------------------------

    async def _claim(self, key: str, owner: str) -> bool:
        try:
            await self.store.create(
                key, {"kind": "Allocation", "metadata": {"name": key.rsplit("/", 1)[1]}, "owner": owner}
            )
            return True
        except KeyExistsError:
            return False

    async def release(self, keys: list[str]) -> None:
        for key in keys:
            try:
                await self.store.delete(key)
            except KeyNotFoundError:
                pass

    def dry_run(self) -> Allocator:
        """kube's dry-run allocators: the values a write would be given are chosen (a wanted one
        checked as for a write) and nothing is reserved."""
        return _DryRun(self.store, str(self.network))

    def ip_in_range(self, ip: str) -> bool:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return (
            addr in self.network
            and addr != self.network.network_address
            and addr != self.network.broadcast_address
        )

    async def _free_ips(self) -> list[str]:
        _, taken = await self.store.list(IP_PREFIX)
        used = {kv.key[len(IP_PREFIX) :] for kv in taken}
        out = []
        for i in range(1, self._size + 1):
            ip = str(self.network.network_address + i)
            if ip not in used:
                out.append(ip)
        return out

    async def allocate_ip(self, owner: str, wanted: str | None) -> str:
        if wanted:
            if not self.ip_in_range(wanted):
                raise _ip_invalid(
                    owner,
                    wanted,
                    f"provided IP is not in the valid range. The range of valid IPs is {self.network}",
                )
            if not await self._claim(IP_PREFIX + wanted, owner):
                raise _ip_invalid(
                    owner, wanted, f"failed to allocate IP {wanted}: provided IP is already allocated"
                )
            return wanted
        for _ in range(_PROBES):
            # offset 1 is the kubernetes service's; everyone else draws from the rest
            ip = str(self.network.network_address + random.randint(2, max(2, self._size)))
            if await self._claim(IP_PREFIX + ip, owner):
                return ip
        for ip in await self._free_ips():
            if ip != self.first_ip and await self._claim(IP_PREFIX + ip, owner):
                return ip
        raise _ip_invalid(owner, "", f"failed to allocate a serviceIP: range is full ({self.network})")

    async def allocate_port(self, owner: str, wanted: int | None, field: str) -> int:
        try:
            return await self._take_port(owner, wanted)
        except _PortUnavailable as e:
            raise _port_invalid(owner, field, e.port, e.detail) from None

    async def _take_port(self, owner: str, wanted: int | None) -> int:
        """Claim `wanted`, or any free port of the range; `_PortUnavailable` says why not."""
        lo, hi = NODE_PORT_RANGE
        if wanted:
            if not lo <= wanted <= hi:
                raise _PortUnavailable(
                    wanted, f"provided port is not in the valid range. The range of valid ports is {lo}-{hi}"
                )
            if not await self._claim(PORT_PREFIX + str(wanted), owner):
                raise _PortUnavailable(wanted, "provided port is already allocated")
            return wanted
        for _ in range(_PROBES):
            port = random.randint(lo, hi)
            if await self._claim(PORT_PREFIX + str(port), owner):
                return port
        _, taken = await self.store.list(PORT_PREFIX)
        used = {int(kv.key[len(PORT_PREFIX) :]) for kv in taken}
        for port in range(lo, hi + 1):
            if port not in used and await self._claim(PORT_PREFIX + str(port), owner):
                return port
        raise _PortUnavailable(0, "range is full")

    async def _health_check_port(self, owner: str, wanted: int | None) -> int:
        """kube's allocHealthCheckNodePort, whose failure is an internal error (500), not Invalid."""
        try:
            return await self._take_port(owner, wanted)
        except _PortUnavailable as e:
            what = f"requested HealthCheck NodePort {wanted}" if wanted else "a HealthCheck NodePort 0"
            raise internal(f"failed to allocate {what}: {e.detail}") from None

    # --- services -------------------------------------------------------------------------

    async def allocate_service(self, svc: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
        """Fill in clusterIP(s) and NodePorts in place; return the keys claimed (to release on failure).

        On update, values the old object holds are kept (kube's patchAllocatedValues) and only
        new ones are claimed."""
        meta = svc.get("metadata") or {}
        owner = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        spec = svc.setdefault("spec", {})
        old_spec = (old or {}).get("spec") or {}
        claimed: list[str] = []
        try:
            ip = spec.get("clusterIP")
            if spec.get("type") == "ExternalName":
                pass  # no cluster IP: one the old type held is released by `updated`
            elif old is not None and not ip and old_spec.get("clusterIP"):
                spec["clusterIP"] = old_spec["clusterIP"]
                spec["clusterIPs"] = old_spec.get("clusterIPs") or [old_spec["clusterIP"]]
            elif old is None or ip != old_spec.get("clusterIP"):
                if ip == "None":
                    spec["clusterIPs"] = ["None"]
                else:
                    got = await self.allocate_ip(owner, ip or None)
                    claimed.append(IP_PREFIX + got)
                    spec["clusterIP"], spec["clusterIPs"] = got, [got]
            old_ports = {p.get("nodePort") for p in old_spec.get("ports") or [] if p.get("nodePort")}
            old_by_port = {
                (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                for p in old_spec.get("ports") or []
                if p.get("nodePort")
            }
            if spec.get("type") in _NEEDS_NODE_PORTS:
                seen: dict[int, int] = {}
                for i, p in enumerate(spec.get("ports") or []):
                    want = p.get("nodePort")
                    if not want and (p.get("port"), p.get("protocol", "TCP")) in old_by_port:
                        want = old_by_port[(p.get("port"), p.get("protocol", "TCP"))]
                    if want and (want in old_ports or want in seen):
                        p["nodePort"] = want
                        continue
                    got_port = await self.allocate_port(owner, want or None, f"spec.ports[{i}].nodePort")
                    claimed.append(PORT_PREFIX + str(got_port))
                    seen[got_port] = i
                    p["nodePort"] = got_port
            else:
                for p in spec.get("ports") or []:
                    p.pop("nodePort", None)
            # kept across an update while both need it (carried over, and immutable by validation)
            held = old is not None and needs_health_check(old_spec) and old_spec.get("healthCheckNodePort")
            if needs_health_check(spec) and not held:
                hc = await self._health_check_port(owner, spec.get("healthCheckNodePort") or None)
                claimed.append(PORT_PREFIX + str(hc))
                spec["healthCheckNodePort"] = hc
        except BaseException:
            await self.release(claimed)
            raise
        return claimed

    @staticmethod
    def keep_allocated(new: dict[str, Any], old: dict[str, Any]) -> None:
        """An update that leaves out clusterIP(s), a port's nodePort or the healthCheckNodePort keeps
        the stored ones (kube's patchAllocatedValues), before validation sees the object; one that
        stops needing the health check port or the externalTrafficPolicy without changing it drops
        it (dropTypeDependentFields)."""
        spec, old_spec = new.get("spec"), old.get("spec") or {}
        if not isinstance(spec, dict):
            return
        if spec.get("type") == "ExternalName" and old_spec.get("type") != "ExternalName":
            # what only a service with a cluster IP has goes, where the update carried it over unchanged
            for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
                if key in spec and spec.get(key) == old_spec.get(key):
                    del spec[key]
        elif not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
            if not spec.get("clusterIPs"):
                spec["clusterIPs"] = old_spec.get("clusterIPs") or [old_spec["clusterIP"]]
        if spec.get("type") in _NEEDS_NODE_PORTS:
            old_by_port = {
                (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                for p in old_spec.get("ports") or []
                if isinstance(p, dict) and p.get("nodePort")
            }
            for p in spec.get("ports") or []:
                if isinstance(p, dict) and not p.get("nodePort"):
                    kept = old_by_port.get((p.get("port"), p.get("protocol", "TCP")))
                    if kept:
                        p["nodePort"] = kept
        # a type change away from outside traffic drops the policy the update carried over unchanged
        if (
            externally_accessible(old_spec)
            and not externally_accessible(spec)
            and spec.get("externalTrafficPolicy") == old_spec.get("externalTrafficPolicy")
        ):
            spec.pop("externalTrafficPolicy", None)
        old_hc = old_spec.get("healthCheckNodePort")
        if needs_health_check(old_spec) and old_hc:
            if needs_health_check(spec) and not spec.get("healthCheckNodePort"):
                spec["healthCheckNodePort"] = old_hc
            elif not needs_health_check(spec) and spec.get("healthCheckNodePort") == old_hc:
                spec.pop("healthCheckNodePort", None)

    @staticmethod
    def held_keys(svc: dict[str, Any] | None) -> set[str]:
        """The allocation keys a stored service holds."""
        spec = (svc or {}).get("spec") or {}
        keys = set()
        for ip in spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else []):
            if ip and ip != "None":
                keys.add(IP_PREFIX + ip)
        for p in spec.get("ports") or []:
            if p.get("nodePort"):
                keys.add(PORT_PREFIX + str(p["nodePort"]))
        if spec.get("healthCheckNodePort"):
            keys.add(PORT_PREFIX + str(spec["healthCheckNodePort"]))
        return keys


class _DryRun(Allocator):
    async def _claim(self, key: str, owner: str) -> bool:
        return await self.store.get(key) is None

    async def release(self, keys: list[str]) -> None:
        return None


class _PortUnavailable(Exception):
    def __init__(self, port: int, detail: str) -> None:
        super().__init__(detail)
        self.port, self.detail = port, detail


def _ip_invalid(owner: str, ip: str, detail: str) -> ApiError:
    # kube words it with Go's %#v of the clusterIPs slice
    cause = {
        "reason": "FieldValueInvalid",
        "field": "spec.clusterIPs",
        "message": f'Invalid value: []string{{"{ip}"}}: {detail}',
    }
    return invalid("Service", owner.split("/", 1)[-1], [cause])


def _port_invalid(owner: str, field: str, port: int, detail: str) -> ApiError:
    return invalid("Service", owner.split("/", 1)[-1], [field_invalid(field, port, detail)])

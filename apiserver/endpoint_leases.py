"""Every API server of the cluster in the `kubernetes` endpoints: a Lease per server, as kube's
`--endpoint-reconciler-type=lease` keeps them.

Each server renews a Lease `kube-system/kube-apiserver-<hash of its address>` (labelled
`apiserver.kubernetes.io/identity: kube-apiserver`, as kube-apiserver's identity leases are;
holderIdentity = `ADDRESS:PORT`) every third of its duration, then rewrites the `kubernetes`
Endpoints (and EndpointSlice) from the leases still live. A server that dies stops renewing and
drops out within one lease duration; one that stops cleanly removes its lease and itself at once.
Agents (and in-cluster clients) learn the servers from these endpoints.

Deciding is pure (`live_servers`, `endpoint_subsets`, `slice_for`); `EndpointLeases` is the shell.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
from typing import Any

from api import jsonutil
from api.errors import ApiError
from api.resources import by_plural
from apiserver.registry import Registry

log = logging.getLogger("kubelite.server")

IDENTITY_LABEL = "apiserver.kubernetes.io/identity"
NAMESPACE = "kube-system"
Server = tuple[str, int]  # (address, port)


def lease_name(address: str, port: int) -> str:
    return "kube-apiserver-" + hashlib.sha256(f"{address}:{port}".encode()).hexdigest()[:16]


def parse_holder(holder: str) -> Server | None:
    host, sep, port = holder.rpartition(":")
    return (host.strip("[]"), int(port)) if sep and port.isdigit() and host else None


def _expiry(lease: dict[str, Any]) -> dt.datetime | None:
    spec = lease.get("spec") or {}
    try:
        return jsonutil.parse_time(spec["renewTime"]) + dt.timedelta(
            seconds=float(spec.get("leaseDurationSeconds") or 0)
        )
    except (KeyError, TypeError, ValueError):
        return None


def live_servers(leases: list[dict[str, Any]], now: dt.datetime) -> list[Server]:
    """The servers whose lease was renewed within its duration, sorted."""
    out: set[Server] = set()
    for lease in leases:
        server = parse_holder(str((lease.get("spec") or {}).get("holderIdentity") or ""))
        until = _expiry(lease)
        if server is not None and until is not None and until >= now:
            out.add(server)
    return sorted(out)


def stale_leases(leases: list[dict[str, Any]], now: dt.datetime, grace: dt.timedelta) -> list[str]:
    """Names of leases expired for longer than `grace`: servers gone for good (or moved), whose
    leases kube-apiserver's identity-lease collector would delete too."""
    return sorted(
        lease["metadata"]["name"]
        for lease in leases
        if (until := _expiry(lease)) is not None and until + grace < now
    )


def endpoint_subsets(servers: list[Server]) -> list[dict[str, Any]]:
    """Endpoints subsets: one per port, its addresses sorted (servers may listen on other ports)."""
    ports: dict[int, list[str]] = {}
    for address, port in sorted(servers):
        ports.setdefault(port, []).append(address)
    return [
        {
            "addresses": [{"ip": a} for a in addrs],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
        }
        for port, addrs in sorted(ports.items())
    ]


def slice_for(servers: list[Server]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The kubernetes slice's (endpoints, ports): a slice has one port list, so the servers on the
    lowest port (every server agrees on it)."""
    port = min(p for _, p in servers)
    addrs = sorted({a for a, p in servers if p == port})
    return (
        [{"addresses": [a], "conditions": {"ready": True}} for a in addrs],
        [{"name": "https", "port": port, "protocol": "TCP"}],
    )


class EndpointLeases:
    """Renews this server's lease and keeps the `kubernetes` endpoints to the live servers."""

    def __init__(self, registry: Registry, address: str, port: int, duration: float = 15.0) -> None:
        self.registry = registry
        self.me: Server = (address, port)
        self.duration = duration
        self.name = lease_name(address, port)
        leases, endpoints, slices = (
            by_plural("coordination.k8s.io", "leases"),
            by_plural("", "endpoints"),
            by_plural("discovery.k8s.io", "endpointslices"),
        )
        assert leases is not None and endpoints is not None and slices is not None
        self.leases, self.endpoints, self.slices = leases, endpoints, slices

    def _lease(self, now: str) -> dict[str, Any]:
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": self.name,
                "namespace": NAMESPACE,
                "labels": {IDENTITY_LABEL: "kube-apiserver"},
            },
            "spec": {
                "holderIdentity": f"{self.me[0]}:{self.me[1]}",
                "leaseDurationSeconds": max(1, round(self.duration)),
                "renewTime": now,
            },
        }

    async def renew(self) -> None:
        now = jsonutil.format_micro_time(jsonutil.now())
        want = self._lease(now)
        await self.registry.update(
            self.leases,
            NAMESPACE,
            self.name,
            lambda cur, kv: ({**cur, "spec": {**(cur.get("spec") or {}), **want["spec"]}}, None),
            create=lambda: want,
        )

    async def reconcile(self, leaving: bool = False) -> list[Server]:
        """Rewrite the endpoints from the live leases (without this server when it is leaving)."""
        _, kvs = await self.registry.list(self.leases, NAMESPACE)
        leases = [kv.obj for kv in kvs if (kv.obj["metadata"].get("labels") or {}).get(IDENTITY_LABEL)]
        now = jsonutil.now()
        for name in stale_leases(leases, now, dt.timedelta(seconds=self.duration)):
            with contextlib.suppress(ApiError):  # another server may have removed it first
                await self.registry.delete(self.leases, NAMESPACE, name, {})
        servers = [s for s in live_servers(leases, now) if not (leaving and s == self.me)]
        if not servers:
            return servers
        subsets = endpoint_subsets(servers)
        await self.registry.update(
            self.endpoints,
            "default",
            "kubernetes",
            lambda cur, kv: (
                ({**cur, "subsets": subsets}, None) if cur.get("subsets") != subsets else (cur, None)
            ),
        )
        eps, ports = slice_for(servers)
        await self.registry.update(
            self.slices,
            "default",
            "kubernetes",
            lambda cur, kv: (
                ({**cur, "endpoints": eps, "ports": ports}, None)
                if (cur.get("endpoints"), cur.get("ports")) != (eps, ports)
                else (cur, None)
            ),
        )
        return servers

    async def run(self) -> None:
        """Renew and reconcile every third of the lease duration until cancelled."""
        while True:
            try:
                await self.renew()
                await self.reconcile()
            except (ApiError, OSError) as e:
                log.warning("apiserver lease %s: %s", self.name, e)
            await asyncio.sleep(self.duration / 3)

    async def leave(self) -> None:
        """On a clean stop: out of the endpoints and the lease gone, so no client waits for expiry."""
        with contextlib.suppress(ApiError, OSError):
            await self.registry.delete(self.leases, NAMESPACE, self.name, {})
        with contextlib.suppress(ApiError, OSError):
            await self.reconcile(leaving=True)

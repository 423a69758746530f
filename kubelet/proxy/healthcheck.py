"""The node's answer to a load balancer's health check, as kube-proxy gives it.

A Service of type LoadBalancer with externalTrafficPolicy Local holds a `healthCheckNodePort`:
its node port sends clients only to this node's own endpoints, so a load balancer must learn
which nodes have any. Every node serves plain HTTP on that port; any request is answered 200
while the node has ready endpoints of the service, 503 while it has none, with the JSON body and
headers of kube-proxy's service_health.go. Which ports to serve and what to answer are pure
functions of the proxier's `ServicePort`s; `HealthChecks` only opens and closes listeners to
match, and a listener reads its answer afresh at each request, so a change of endpoints needs no
restart.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from kubelet.proxy.rules import ServicePort

log = logging.getLogger(__name__)

_REASONS = {200: "OK", 503: "Service Unavailable"}


@dataclass(frozen=True)
class HealthCheck:
    namespace: str
    service: str
    local_endpoints: int  # distinct ready endpoint addresses on this node


def health_checks(ports: Iterable[ServicePort]) -> dict[int, HealthCheck]:
    """The health check port of each service that has one, with its local endpoint count."""
    found: dict[int, tuple[str, str, set[str]]] = {}
    for sp in ports:
        if sp.health_check_port and sp.external_local:
            _, _, ips = found.setdefault(sp.health_check_port, (sp.namespace, sp.service, set()))
            ips.update(ip for ip, _ in sp.for_node_port)
    return {port: HealthCheck(ns, name, len(ips)) for port, (ns, name, ips) in found.items()}


def answer(check: HealthCheck) -> bytes:
    """The whole HTTP response kube-proxy's hcHandler writes (the proxy itself counts as healthy)."""
    status = 200 if check.local_endpoints else 503
    body = json.dumps(
        {
            "service": {"namespace": check.namespace, "name": check.service},
            "localEndpoints": check.local_endpoints,
            "serviceProxyHealthy": True,
        },
        indent="\t",
    ).encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
        "Content-Type: application/json\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


class HealthChecks:
    """One listener per health check port on `address`, following `sync`."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.current: dict[int, HealthCheck] = {}
        self._servers: dict[int, asyncio.Server] = {}

    async def sync(self, wanted: dict[int, HealthCheck]) -> None:
        self.current = wanted
        for port in [p for p in self._servers if p not in wanted]:
            await self._close(port)
        for port in wanted:
            if port in self._servers:
                continue
            try:
                self._servers[port] = await asyncio.start_server(
                    functools.partial(self._serve, port), self.address, port
                )
            except OSError:
                log.exception("cannot serve the health check of %s on port %d", wanted[port], port)

    async def _serve(self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            check = self.current.get(port)
            if check is not None:
                writer.write(answer(check))
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            writer.close()

    async def _close(self, port: int) -> None:
        server = self._servers.pop(port)
        server.close()
        await server.wait_closed()

    async def close(self) -> None:
        for port in list(self._servers):
            await self._close(port)

"""A Service's ready endpoint, as kube-apiserver finds one with `--enable-aggregator-routing`:
where a `service` admission webhook and an aggregated APIService's extension server are dialled.

The Service's port with the number asked gives a port name; the ready addresses of its
EndpointSlices (else its Endpoints) on a port of that name are the candidates, one picked at
random. The API server must have a route to them (`kubelite up` gives the host one to every
node's pod CIDR). Failures are `NoEndpoint`, worded as kube words them (`services "x" not found`,
`no service port 443 found for service "x"`, `no endpoints available for service "x"`), which each
caller prefixes in its own way.
"""

from __future__ import annotations

import random
from typing import Any

from api.resources import by_plural
from apiserver.storage.interface import Store

Obj = dict[str, Any]
SERVICES = by_plural("", "services")
ENDPOINTS = by_plural("", "endpoints")
SLICES = by_plural("discovery.k8s.io", "endpointslices")
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


class NoEndpoint(Exception):
    """No address to dial for the Service and port; the message is kube's."""


def port_name(service: Obj, port: int) -> str:
    """The name of the Service's port numbered `port` (NoEndpoint when it has none)."""
    ports = [p for p in (service.get("spec") or {}).get("ports") or [] if p.get("port") == port]
    if not ports:
        name = (service.get("metadata") or {}).get("name")
        raise NoEndpoint(f'no service port {port} found for service "{name}"')
    return str(ports[0].get("name") or "")


def ready_endpoints(
    service: Obj, slices: list[Obj], endpoints: Obj | None, port: int
) -> list[tuple[str, int]]:
    """Every (address, port) ready behind the Service's `port`; NoEndpoint when there is none."""
    name = port_name(service, port)
    found: list[tuple[str, int]] = []
    for s in slices:
        target = next((p.get("port") for p in s.get("ports") or [] if (p.get("name") or "") == name), None)
        if not isinstance(target, int):
            continue
        for ep in s.get("endpoints") or []:
            if (ep.get("conditions") or {}).get("ready") is not False:
                found += [(a, target) for a in ep.get("addresses") or []]
    if not found and endpoints is not None:
        for subset in endpoints.get("subsets") or []:
            target = next(
                (p.get("port") for p in subset.get("ports") or [] if (p.get("name") or "") == name), None
            )
            if isinstance(target, int):
                found += [(a.get("ip"), target) for a in subset.get("addresses") or [] if a.get("ip")]
    if not found:
        raise NoEndpoint(
            f'no endpoints available for service "{(service.get("metadata") or {}).get("name")}"'
        )
    return found


async def read(store: Store, namespace: str, name: str) -> tuple[Obj | None, list[Obj], Obj | None]:
    """(the Service or None, its EndpointSlices, its Endpoints or None) as stored now."""
    assert SERVICES is not None and ENDPOINTS is not None and SLICES is not None
    kv = await store.get(SERVICES.storage_key(name, namespace))
    if kv is None:
        return None, [], None
    _, kvs = await store.list(SLICES.storage_prefix(namespace))
    slices = [
        s
        for s in (kv_.obj for kv_ in kvs)
        if ((s.get("metadata") or {}).get("labels") or {}).get(SERVICE_NAME_LABEL) == name
    ]
    ep = await store.get(ENDPOINTS.storage_key(name, namespace))
    return kv.obj, slices, ep.obj if ep is not None else None


async def resolve(store: Store, namespace: str, name: str, port: int) -> tuple[str, int]:
    """A ready (address, port) of Service `namespace/name` behind its `port`, picked at random."""
    service, slices, endpoints = await read(store, namespace, name)
    if service is None:
        raise NoEndpoint(f'services "{name}" not found')
    return random.choice(ready_endpoints(service, slices, endpoints, port))

"""Ingresses + Services + EndpointSlices -> the virtual servers to serve (pure).

What kube's Ingress spec asks of a controller, decided here once so the nginx file is a plain
rendering of it:

- a rule's `host` is a server; a wildcard host `*.example.com` matches one label only; rules
  without a host serve requests for any host that no named server takes (the default server);
- `Exact` matches the path exactly; `Prefix` matches element by element (`/foo` matches `/foo`,
  `/foo/` and `/foo/bar`, never `/foobar`; a trailing slash in the rule is ignored);
  `ImplementationSpecific` is served as `Prefix`; the longest match wins and, for the same path,
  Exact wins over Prefix; the oldest Ingress wins a (host, path) that several claim;
- a backend is the service's ready endpoints directly (its EndpointSlices), on the slice port of
  the service port named or numbered; none ready is a 503; a `resource` backend is not served;
- an unmatched path goes to the Ingress's `defaultBackend` if it has one, else 404;
- TLS: each `tls` entry's Secret (type kubernetes.io/tls) serves its hosts (all the Ingress's
  rule hosts when it names none) on 443.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Obj = Mapping[str, Any]
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
NOT_FOUND = "404"
NO_ENDPOINTS = "503"


@dataclass(frozen=True)
class Upstream:
    name: str  # a stable nginx identifier
    servers: tuple[tuple[str, int], ...]  # (ip, port) of ready endpoints


@dataclass
class Location:
    path: str  # normalised (no trailing slash but "/")
    exact: bool
    target: str  # an upstream name, NOT_FOUND or NO_ENDPOINTS
    source: str  # ns/ingress, for the comment in the file


@dataclass
class Server:
    host: str  # "" is the default server
    locations: dict[tuple[str, bool], Location] = field(default_factory=dict)
    fallback: str = NOT_FOUND  # what an unmatched path gets
    cert: str = ""  # the key of the TLS secret serving this host ("ns/name"), "" for none


def _meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def normalise(path: str) -> str:
    path = path or "/"
    return path.rstrip("/") or "/"


def _upstream_name(ns: str, svc: str, port: str) -> str:
    return "u_" + "_".join(x.replace("-", "_").replace(".", "_") for x in (ns, svc, port))


def resolve_backend(
    ns: str,
    backend: Obj,
    services: Mapping[tuple[str, str], Obj],
    slices: Mapping[tuple[str, str], list[Obj]],
    upstreams: dict[str, Upstream],
) -> str:
    """The target of a backend: an upstream (registered in `upstreams`) or a status code."""
    service = backend.get("service")
    if not isinstance(service, Mapping):
        return NOT_FOUND  # resource backends are not something nginx can serve
    name, port = str(service.get("name") or ""), service.get("port") or {}
    svc = services.get((ns, name))
    if svc is None:
        return NO_ENDPOINTS
    svc_port = next(
        (
            p
            for p in (svc.get("spec") or {}).get("ports") or []
            if (port.get("number") and p.get("port") == port.get("number"))
            or (port.get("name") and p.get("name") == port.get("name"))
        ),
        None,
    )
    if svc_port is None or (svc_port.get("protocol") or "TCP") != "TCP":
        return NO_ENDPOINTS
    pname = svc_port.get("name") or ""
    servers: set[tuple[str, int]] = set()
    for s in slices.get((ns, name)) or []:
        if s.get("addressType") != "IPv4":
            continue
        target = next(
            (q for q in s.get("ports") or [] if (q.get("name") or "") == pname and q.get("port")), None
        )
        if target is None:
            continue
        for ep in s.get("endpoints") or []:
            if (ep.get("conditions") or {}).get("ready") is not False:
                servers.update((a, int(target["port"])) for a in ep.get("addresses") or [])
    if not servers:
        return NO_ENDPOINTS
    up = Upstream(_upstream_name(ns, name, str(svc_port.get("port"))), tuple(sorted(servers)))
    upstreams[up.name] = up
    return up.name


def slices_by_service(slices: Iterable[Obj]) -> dict[tuple[str, str], list[Obj]]:
    out: dict[tuple[str, str], list[Obj]] = {}
    for s in slices:
        svc = (_meta(s).get("labels") or {}).get(SERVICE_NAME_LABEL)
        if svc:
            out.setdefault((str(_meta(s).get("namespace") or ""), str(svc)), []).append(s)
    return out


def oldest_first(ingresses: Iterable[Obj]) -> list[Obj]:
    return sorted(
        ingresses,
        key=lambda i: (
            str(_meta(i).get("creationTimestamp") or ""),
            str(_meta(i).get("namespace")),
            str(_meta(i).get("name")),
        ),
    )


def build(
    ingresses: Iterable[Obj], services: Iterable[Obj], slices: Iterable[Obj], certs: Mapping[str, Any]
) -> tuple[list[Server], list[Upstream]]:
    """The servers (default server first, then by host) and the upstreams they use.

    `certs` maps "ns/secret" to anything true for the TLS Secrets that exist and are usable."""
    svc_map = {(str(_meta(s).get("namespace") or ""), str(_meta(s).get("name") or "")): s for s in services}
    slice_map = slices_by_service(slices)
    upstreams: dict[str, Upstream] = {}
    servers: dict[str, Server] = {"": Server("")}
    for ing in oldest_first(ingresses):
        ns, source = (
            str(_meta(ing).get("namespace") or ""),
            f"{_meta(ing).get('namespace')}/{_meta(ing).get('name')}",
        )
        spec = ing.get("spec") or {}
        fallback = NOT_FOUND
        if isinstance(spec.get("defaultBackend"), Mapping):
            fallback = resolve_backend(ns, spec["defaultBackend"], svc_map, slice_map, upstreams)
            if servers[""].fallback == NOT_FOUND:
                servers[""].fallback = fallback
        hosts: list[str] = []
        for rule in spec.get("rules") or []:
            host = str(rule.get("host") or "")
            server = servers.setdefault(host, Server(host, fallback=fallback))
            if host:
                hosts.append(host)
            for item in (rule.get("http") or {}).get("paths") or []:
                exact = item.get("pathType") == "Exact"
                key = (
                    normalise(str(item.get("path") or "/")) if not exact else str(item.get("path") or "/"),
                    exact,
                )
                if key in server.locations:
                    continue  # an older Ingress holds it
                target = resolve_backend(ns, item.get("backend") or {}, svc_map, slice_map, upstreams)
                server.locations[key] = Location(key[0], exact, target, source)
        for tls in spec.get("tls") or []:
            cert = f"{ns}/{tls.get('secretName')}"
            if not tls.get("secretName") or not certs.get(cert):
                continue
            for host in tls.get("hosts") or hosts or [""]:  # no hosts at all: the default server
                server = servers.setdefault(str(host), Server(str(host), fallback=fallback))
                server.cert = server.cert or cert
    ordered = [servers[""]] + [servers[h] for h in sorted(h for h in servers if h)]
    return ordered, [upstreams[k] for k in sorted(upstreams)]

"""Where a `proxy` subresource request goes: kube-apiserver's ResourceLocation for pods, services and
nodes, and the path sent upstream, as pure functions (the I/O is `apiserver.resourceproxy`).

The name in the URL may carry a scheme and a port, read as kube's SplitSchemeNamePort reads it:
`NAME`, `NAME:PORT` or `SCHEME:NAME:PORT`, SCHEME `http` or `https` (else 400 `invalid pod
request "..."`, `service`, `node`). A port that is not a number is looked up as a service name
(`http` is 80), as Go's dialer does; an unknown one fails as the dial would.

- pods: the pod's first IP (`status.podIPs[0]`, else `status.podIP`), which must be a global
  unicast address (none yet, loopback, link-local ...: 400 `address not allowed`), on the port
  named, else the first port of the first container that declares one, else the scheme's default.
- services: a port number is turned into the name of the service port with that number (none:
  503 `no service port N found for service "x"`); then the Endpoints of that name (not found: its
  404) give the candidates: from a random subset on, those with addresses and a port of that name
  (an unnamed port matches an empty name), from a random address on. The shell takes the first
  whose targetRef names a pod of the namespace that still has that IP; none: 503 `no endpoints
  available for service "..."`. ExternalName and selectorless services are not special: kube
  reads their Endpoints too.
- nodes: the kubelet (InternalIP first, `daemonEndpoints.kubeletEndpoint.Port`) over HTTPS with
  the API server's kubelet client certificate when no port or the kubelet's port is named; any
  other port as asked (http unless https is named), without the certificate.

The path after `proxy` is joined as kube's JoinPreservingTrailingSlash does: cleaned, its trailing
slash kept. An empty one makes GET and HEAD a 301 to `.../proxy/`; other methods send `/`.
"""

from __future__ import annotations

import errno
import ipaddress
import posixpath
import random
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from api.errors import ApiError, bad_request, service_unavailable
from apiserver.kubeletproxy import kubelet_endpoint

Obj = dict[str, Any]
_SCHEMES = ("", "http", "https")
_DEFAULT_PORT = {"http": 80, "https": 443}
_PATH_SAFE = "/$&+,:;=@"  # kept as they are in a path, besides letters, digits and -._~
_SIGNED_INT = re.compile(r"[+-]?[0-9]+")
_DIAL_WORDS = {  # Go's words for what a dial meets, after `dial tcp HOST:PORT: `
    errno.ECONNREFUSED: "connect: connection refused",
    errno.EHOSTUNREACH: "connect: no route to host",
    errno.ENETUNREACH: "connect: network is unreachable",
    errno.ETIMEDOUT: "i/o timeout",
    errno.ECONNRESET: "read: connection reset by peer",
}


@dataclass(frozen=True)
class Upstream:
    """What a proxied request dials: scheme, host and port; `kubelet` sends the client certificate."""

    scheme: str
    host: str
    port: int
    kubelet: bool = False

    @property
    def authority(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def url(self, path: str, query: str = "", websocket: bool = False) -> str:
        """The URL for a (decoded) path, escaped as Go's URL.EscapedPath does, and a raw query."""
        scheme = ("wss" if self.scheme == "https" else "ws") if websocket else self.scheme
        return f"{scheme}://{self.authority}{quote(path, safe=_PATH_SAFE)}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Candidate:
    """A ready address of a service's Endpoints on the asked port, and the pod it names."""

    ip: str
    port: int
    target: Obj | None


def split_scheme_name_port(id_: str, kind: str) -> tuple[str, str, str]:
    """(scheme, name, port) of `name`, `name:port` or `scheme:name:port`; 400 as kube otherwise."""
    parts = id_.split(":")
    if len(parts) > 3:
        raise bad_request(f'invalid {kind} request "{id_}"')
    scheme = parts[0] if len(parts) == 3 else ""
    name, port = parts[-2:] if len(parts) > 1 else (id_, "")
    if not name or scheme not in _SCHEMES:
        raise bad_request(f'invalid {kind} request "{id_}"')
    return scheme, name, port


def parse_ip(host: str) -> Any:
    """The address `host` spells (IPv4Address or IPv6Address), None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_global_unicast(ip: str) -> bool:
    """Go's net.IP.IsGlobalUnicast: not unspecified, loopback, multicast, link-local or broadcast."""
    addr = parse_ip(ip)
    if addr is None:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_unspecified or addr.is_loopback or addr.is_multicast or addr.is_link_local:
        return False
    return addr != ipaddress.IPv4Address("255.255.255.255")


def port_number(port: str, scheme: str, lookup: Callable[[str, str], int] = socket.getservbyname) -> int:
    """The number to dial: the scheme's default for none, a service name looked up as Go would."""
    if not port:
        return _DEFAULT_PORT[scheme or "http"]
    if port.isdigit():
        if 0 < int(port) < 65536:
            return int(port)
        raise unreachable(f"dial tcp: address {port}: invalid port")
    try:
        return lookup(port, "tcp")
    except OSError:
        raise unreachable(f"dial tcp: lookup tcp/{port}: unknown port") from None


def pod_upstream(pod: Obj, scheme: str, port: str) -> Upstream:
    if not port:
        for c in (pod.get("spec") or {}).get("containers") or []:
            if c.get("ports"):
                port = str(c["ports"][0].get("containerPort", ""))
                break
    status = pod.get("status") or {}
    ips = [p.get("ip", "") for p in status.get("podIPs") or [] if isinstance(p, dict)]
    ip = str(ips[0] if ips else status.get("podIP") or "")
    if not is_global_unicast(ip):
        raise bad_request("address not allowed")
    return Upstream(scheme or "http", ip, port_number(port, scheme))


def names_port_number(port: str) -> bool:
    """Whether a service request's port is a number (then the service says which port it is)."""
    return bool(_SIGNED_INT.fullmatch(port))


def service_port_name(service: Obj, port: str) -> str:
    """The name of the service port whose number `port` is; 503 as kube when there is none."""
    for p in (service.get("spec") or {}).get("ports") or []:
        if p.get("port") == int(port):
            return str(p.get("name") or "")
    name = (service.get("metadata") or {}).get("name", "")
    raise service_unavailable(f'no service port {int(port)} found for service "{name}"')


def endpoint_candidates(endpoints: Obj, port_name: str, rng: random.Random) -> list[Candidate]:
    """The ready addresses on `port_name`, in the random order kube tries them; 503 when none are listed."""
    subsets = endpoints.get("subsets") or []
    if not subsets:
        raise no_endpoints((endpoints.get("metadata") or {}).get("name", ""))
    out: list[Candidate] = []
    first = rng.randrange(len(subsets))
    for i in range(len(subsets)):
        subset = subsets[(first + i) % len(subsets)]
        addresses = subset.get("addresses") or []
        if not addresses:
            continue
        for p in subset.get("ports") or []:
            if (p.get("name") or "") != port_name:
                continue
            start = rng.randrange(len(addresses))
            for j in range(len(addresses)):
                a = addresses[(start + j) % len(addresses)]
                out.append(Candidate(str(a.get("ip", "")), int(p.get("port") or 0), a.get("targetRef")))
    return out


def target_pod(candidate: Candidate, namespace: str) -> str | None:
    """The pod a candidate must still be (kube's isValidAddress), None when it names no pod here."""
    ref = candidate.target
    if not isinstance(ref, dict) or ref.get("namespace") != namespace or not ref.get("name"):
        return None
    return str(ref["name"])


def pod_has_ip(pod: Obj, ip: str) -> bool:
    status = pod.get("status") or {}
    ips = [p.get("ip") for p in status.get("podIPs") or [] if isinstance(p, dict)] or [status.get("podIP")]
    return ip in ips


def service_upstream(scheme: str, candidate: Candidate) -> Upstream:
    return Upstream(scheme or "http", candidate.ip, candidate.port)


def node_upstream(node: Obj, scheme: str, port: str) -> Upstream:
    host, kubelet_port = kubelet_endpoint(node)
    if not port or port == str(kubelet_port):
        return Upstream("https", host, kubelet_port, kubelet=True)
    return Upstream(scheme or "http", host, port_number(port, scheme))


def upstream_path(rest: str) -> str:
    """The path sent upstream for what followed `proxy` in the URL ("" when nothing did)."""
    if not rest.strip("/"):
        return "/" if rest else ""
    cleaned = posixpath.normpath("/" + rest.lstrip("/"))
    return cleaned + "/" if rest.endswith("/") and cleaned != "/" else cleaned


def redirects_to_slash(path: str, method: str) -> bool:
    """kube answers GET and HEAD of `.../proxy` (no path) with a 301 to `.../proxy/`."""
    return path == "" and method in ("GET", "HEAD")


def no_endpoints(name: str) -> ApiError:
    return service_unavailable(f'no endpoints available for service "{name}"')


def unreachable(what: str) -> ApiError:
    return service_unavailable(f"error trying to reach service: {what}")


def dial_error(e: BaseException, authority: str, timed_out: bool = False) -> str:
    """Go's wording of a failed dial or exchange, from the exception chain (`dial tcp H:P: ...`)."""
    if timed_out:
        return f"dial tcp {authority}: i/o timeout"
    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in _DIAL_WORDS:
            return f"dial tcp {authority}: {_DIAL_WORDS[seen.errno]}"
        seen = seen.__cause__ or seen.__context__
    return str(e) or type(e).__name__

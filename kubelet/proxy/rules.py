"""Services + EndpointSlices -> the body of one nftables table (pure; applied atomically elsewhere).

A service's endpoints are the `ready` ones of the IPv4 slices labelled with its name, on the
slice port of the same name and protocol (what kube-proxy reads since Endpoints were superseded).

The proxy rebuilds the whole table on every change and replaces it in a single `nft -f`
transaction (`runtime.network.nft.apply_table`), so a packet never sees half a rule set.
Layout of table `ip kubelite-proxy`:
- `services`: clusterIP:port -> `svc_N`, and an external IP:port (spec.externalIPs) as traffic
  from outside; `nodeports`: any local address:nodePort -> `svc_N`
  (jumped to from prerouting and output only for `fib daddr type local`), marking for SNAT;
- `svc_N`: `numgen random mod K` picks one of the K ready endpoints with equal odds;
- `ep_N_M`: marks hairpin traffic (a pod reaching itself through its service), then DNAT;
- `postrouting` masquerades marked packets; a service with no ready endpoint is rejected in
  the filter hooks (`noendpoints`), as kube-proxy does, instead of black-holing;
- `aff_<hash>` (sessionAffinity ClientIP): per endpoint, the clients stuck to it, each for the
  affinity timeout from its last packet; `svc_N` sends a client found in one to that endpoint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TABLE = "kubelite-proxy"
MASQ_MARK = "0x4000"
DEFAULT_AFFINITY_SECONDS = 10800  # kube's default sessionAffinityConfig.clientIP.timeoutSeconds
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


@dataclass(frozen=True)
class ServicePort:
    """One (service, port) the proxy programs, with the endpoints it may go to."""

    namespace: str
    service: str
    port_name: str
    protocol: str  # tcp | udp | sctp
    cluster_ip: str
    port: int
    node_port: int
    endpoints: tuple[tuple[str, int], ...]  # (ip, port), ready ones only, for the cluster IP
    node_endpoints: tuple[tuple[str, int], ...] | None = None  # for the node port; None: the same
    external_local: bool = False  # externalTrafficPolicy Local: node-port clients keep their address
    any_ready: bool = True  # some endpoint is ready somewhere (else clients are rejected, not dropped)
    affinity: int = 0  # sessionAffinity ClientIP: seconds a client sticks to its endpoint (0: none)
    health_check_port: int = 0  # the service's healthCheckNodePort (kubelet/proxy/healthcheck.py)
    external_ips: tuple[str, ...] = ()  # spec.externalIPs: the service port on these addresses too

    @property
    def for_node_port(self) -> tuple[tuple[str, int], ...]:
        """The endpoints of traffic from outside (the node port, the external IPs)."""
        return self.endpoints if self.node_endpoints is None else self.node_endpoints

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.service}" + (f":{self.port_name}" if self.port_name else "")


def endpoint_is_ready(ep: Mapping[str, Any]) -> bool:
    """A slice endpoint traffic may go to: `ready` (unset reads as ready, as kube-proxy reads it)."""
    return (ep.get("conditions") or {}).get("ready") is not False


def slices_by_service(slices: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
    """EndpointSlices grouped by the service their `kubernetes.io/service-name` label names."""
    out: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for s in slices:
        meta = s.get("metadata") or {}
        svc = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
        if svc:
            out.setdefault((meta.get("namespace", "default"), svc), []).append(s)
    return out


def service_ports(
    services: Iterable[Mapping[str, Any]],
    slices: Mapping[tuple[str, str], Iterable[Mapping[str, Any]]],
    node_name: str = "",
) -> list[ServicePort]:
    """Flatten services and their EndpointSlices into the ports to program, in a stable order.
    A traffic policy of `Local` keeps to the endpoints on `node_name` (this node): the internal
    one for the cluster IP, the external one for the node port, as kube-proxy does."""
    out: list[ServicePort] = []
    for svc in services:
        meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
        ip = spec.get("clusterIP") or ""
        if not ip or ip == "None" or spec.get("type") == "ExternalName":
            continue
        ns, name = meta.get("namespace", "default"), meta.get("name", "")
        own = [s for s in slices.get((ns, name)) or () if s.get("addressType") == "IPv4"]
        for p in spec.get("ports") or []:
            pname, proto = p.get("name", ""), p.get("protocol", "TCP")
            targets: set[tuple[str, int]] = set()
            local: set[tuple[str, int]] = set()
            for s in own:
                ports = [
                    q
                    for q in s.get("ports") or []
                    if (q.get("name") or "") == pname
                    and (q.get("protocol") or "TCP") == proto
                    and q.get("port")
                ]
                if not ports:
                    continue
                for ep in s.get("endpoints") or []:
                    if endpoint_is_ready(ep):
                        found = {(addr, int(ports[0]["port"])) for addr in ep.get("addresses") or []}
                        targets |= found
                        if ep.get("nodeName") == node_name:
                            local |= found
            sticky = spec.get("sessionAffinity") == "ClientIP"
            node_port = int(p.get("nodePort") or 0) if spec.get("type") in ("NodePort", "LoadBalancer") else 0
            external_ips = tuple(str(a) for a in spec.get("externalIPs") or ())
            reached = bool(node_port or external_ips)  # from outside the cluster
            external_local = reached and spec.get("externalTrafficPolicy") == "Local"
            out.append(
                ServicePort(
                    ns,
                    name,
                    pname,
                    proto.lower(),
                    ip,
                    int(p["port"]),
                    node_port,
                    tuple(sorted(local if spec.get("internalTrafficPolicy") == "Local" else targets)),
                    tuple(sorted(local if external_local else targets)),
                    external_local,
                    bool(targets),
                    _affinity_seconds(spec) if sticky else 0,
                    int(spec.get("healthCheckNodePort") or 0),
                    external_ips,
                )
            )
    out.sort(key=lambda s: (s.namespace, s.service, s.port_name, s.port))
    return out


def _quote(s: str) -> str:
    return '"' + s.replace('"', "'") + '"'


def _affinity_seconds(spec: Mapping[str, Any]) -> int:
    config = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get("timeoutSeconds")
    return int(config) if isinstance(config, int) and config > 0 else DEFAULT_AFFINITY_SECONDS


def affinity_set(sp: ServicePort, endpoint: tuple[str, int]) -> str:
    """The name of the set of clients stuck to `endpoint` of `sp`: stable across rebuilds (a hash
    of the service port and the endpoint), so what a client stuck to survives the table's
    replacement (`Sticky`)."""
    digest = hashlib.sha1(f"{sp.label}|{sp.protocol}|{endpoint[0]}:{endpoint[1]}".encode()).hexdigest()
    return f"aff_{digest[:16]}"


Sticky = Mapping[str, Mapping[str, int]]  # affinity set -> client address -> seconds left


def _balance(
    name: str,
    prefix: str,
    sp: ServicePort,
    endpoints: Sequence[tuple[str, int]],
    sets: dict[str, str],
    sticky: Sticky,
) -> list[str]:
    """A chain picking one of `endpoints` with equal odds, and one DNAT chain per endpoint (marking a
    pod that reaches itself through its service, whose reply must come back through the node).
    Under ClientIP affinity a client goes back to the endpoint whose set holds its address, and each
    packet it sends there renews it (kube-proxy's nftables mode does the same with dynamic sets)."""
    chains, stick = [], []
    for j, (ip, port) in enumerate(endpoints):
        remember = ""
        if sp.affinity:
            aff = affinity_set(sp, (ip, port))
            held = ", ".join(
                f"{client} expires {left}s" for client, left in sorted((sticky.get(aff) or {}).items())
            )
            sets[aff] = (
                f"set {aff} {{\n  type ipv4_addr; flags dynamic,timeout; timeout {sp.affinity}s;\n"
                + (f"  elements = {{ {held} }}\n" if held else "")
                + "}"
            )
            stick.append(f"  ip saddr @{aff} goto {prefix}_{j}\n")
            remember = f"  update @{aff} {{ ip saddr }}\n"
        chains.append(
            f"chain {prefix}_{j} {{\n{remember}"
            f"  ip saddr {ip} meta mark set mark or {MASQ_MARK}\n"
            f"  meta l4proto {sp.protocol} dnat to {ip}:{port}\n}}"
        )
    verdicts = ", ".join(f"{j} : goto {prefix}_{j}" for j in range(len(endpoints)))
    pick = f"  numgen random mod {len(endpoints)} vmap {{ {verdicts} }}\n"
    return [*chains, f"chain {name} {{\n{''.join(stick)}{pick}}}"]


def ruleset(ports: Iterable[ServicePort], sticky: Sticky | None = None) -> str:
    """The table body (chains and rules) for `nft`; deterministic for the same input. `sticky`: what
    the affinity sets of the table being replaced hold, carried over."""
    sets: dict[str, str] = {}
    services: list[str] = []
    nodeports: list[str] = []
    noendpoints: list[str] = []
    chains: list[str] = []
    for i, sp in enumerate(ports):
        comment = f"comment {_quote(sp.label)}"
        # no endpoint at all: rejected; none on this node under a Local policy: dropped (kube-proxy)
        nothing = "drop" if sp.any_ready else "reject"
        if sp.endpoints:
            chains += _balance(f"svc_{i}", f"ep_{i}", sp, sp.endpoints, sets, sticky or {})
            services.append(f"ip daddr {sp.cluster_ip} {sp.protocol} dport {sp.port} goto svc_{i} {comment}")
        else:
            noendpoints.append(f"ip daddr {sp.cluster_ip} {sp.protocol} dport {sp.port} {nothing} {comment}")
        # traffic from outside: the node port on any local address, the service port on an external IP
        at_node_port = [f"{sp.protocol} dport {sp.node_port}"] if sp.node_port else []
        at_external = [f"ip daddr {ip} {sp.protocol} dport {sp.port}" for ip in sp.external_ips]
        if not at_node_port and not at_external:
            continue
        if not sp.for_node_port:
            noendpoints += [f"fib daddr type local {m} {nothing} {comment}" for m in at_node_port]
            noendpoints += [f"{m} {nothing} {comment}" for m in at_external]
            continue
        chain = f"svc_{i}"
        if sp.for_node_port != sp.endpoints:
            chain = f"svcx_{i}"
            chains += _balance(chain, f"epx_{i}", sp, sp.for_node_port, sets, sticky or {})
        # masqueraded so that replies come back through this node, unless the policy is Local:
        # then the endpoint is here and the client's address is kept
        masq = "" if sp.external_local else f"meta mark set mark or {MASQ_MARK} "
        nodeports += [f"{m} {masq}goto {chain} {comment}" for m in at_node_port]
        services += [f"{m} {masq}goto {chain} {comment}" for m in at_external]

    def block(name: str, rules: list[str], hook: str = "") -> str:
        body = "".join(f"  {r}\n" for r in ([hook] if hook else []) + rules)
        return f"chain {name} {{\n{body}}}"

    parts = [
        *(sets[name] for name in sorted(sets)),
        block("services", services),
        block("nodeports", nodeports),
        block("noendpoints", noendpoints),
        *chains,
        block(
            "prerouting",
            ["jump services", "fib daddr type local jump nodeports"],
            "type nat hook prerouting priority dstnat; policy accept;",
        ),
        block(
            "output",
            ["jump services", "fib daddr type local jump nodeports"],
            "type nat hook output priority -100; policy accept;",
        ),
        block(
            "postrouting",
            [f"meta mark and {MASQ_MARK} == {MASQ_MARK} masquerade"],
            "type nat hook postrouting priority srcnat; policy accept;",
        ),
        block(
            "filter_output", ["jump noendpoints"], "type filter hook output priority filter; policy accept;"
        ),
        block(
            "filter_forward", ["jump noendpoints"], "type filter hook forward priority filter; policy accept;"
        ),
        block("filter_input", ["jump noendpoints"], "type filter hook input priority filter; policy accept;"),
    ]
    return "\n".join(parts) + "\n"

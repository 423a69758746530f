"""Services + EndpointSlices -> the body of one nftables table (pure; applied atomically elsewhere).

A service's endpoints are the `ready` ones of the IPv4 slices labelled with its name, on the
slice port of the same name and protocol (what kube-proxy reads since Endpoints were superseded).

The proxy rebuilds the whole table on every change and replaces it in a single `nft -f`
transaction (`runtime.network.nft.apply_table`), so a packet never sees half a rule set.
Layout of table `ip kubelite-proxy`:
- `services`: clusterIP:port -> `svc_N`; `nodeports`: any local address:nodePort -> `svc_N`
  (jumped to from prerouting and output only for `fib daddr type local`), marking for SNAT;
- `svc_N`: `numgen random mod K` picks one of the K ready endpoints with equal odds;
- `ep_N_M`: marks hairpin traffic (a pod reaching itself through its service), then DNAT;
- `postrouting` masquerades marked packets; a service with no ready endpoint is rejected in
  the filter hooks (`noendpoints`), as kube-proxy does, instead of black-holing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TABLE = "kubelite-proxy"
MASQ_MARK = "0x4000"
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
    endpoints: tuple[tuple[str, int], ...]  # (ip, port), ready ones only

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
    services: Iterable[Mapping[str, Any]], slices: Mapping[tuple[str, str], Iterable[Mapping[str, Any]]]
) -> list[ServicePort]:
    """Flatten services and their EndpointSlices into the ports to program, in a stable order."""
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
                        targets.update((addr, int(ports[0]["port"])) for addr in ep.get("addresses") or [])
            out.append(
                ServicePort(
                    ns,
                    name,
                    pname,
                    proto.lower(),
                    ip,
                    int(p["port"]),
                    int(p.get("nodePort") or 0) if spec.get("type") in ("NodePort", "LoadBalancer") else 0,
                    tuple(sorted(targets)),
                )
            )
    out.sort(key=lambda s: (s.namespace, s.service, s.port_name, s.port))
    return out


def _quote(s: str) -> str:
    return '"' + s.replace('"', "'") + '"'


def ruleset(ports: Iterable[ServicePort]) -> str:
    """The table body (chains and rules) for `nft`; deterministic for the same input."""
    services: list[str] = []
    nodeports: list[str] = []
    noendpoints: list[str] = []
    chains: list[str] = []
    for i, sp in enumerate(ports):
        comment = f"comment {_quote(sp.label)}"
        if not sp.endpoints:
            noendpoints.append(f"ip daddr {sp.cluster_ip} {sp.protocol} dport {sp.port} reject {comment}")
            if sp.node_port:
                noendpoints.append(
                    f"fib daddr type local {sp.protocol} dport {sp.node_port} reject {comment}"
                )
            continue
        svc_chain = f"svc_{i}"
        services.append(f"ip daddr {sp.cluster_ip} {sp.protocol} dport {sp.port} goto {svc_chain} {comment}")
        if sp.node_port:
            nodeports.append(
                f"{sp.protocol} dport {sp.node_port} meta mark set mark or {MASQ_MARK} "
                f"goto {svc_chain} {comment}"
            )
        verdicts = []
        for j, (ip, port) in enumerate(sp.endpoints):
            ep_chain = f"ep_{i}_{j}"
            verdicts.append(f"{j} : goto {ep_chain}")
            chains.append(
                f"chain {ep_chain} {{\n"
                f"  ip saddr {ip} meta mark set mark or {MASQ_MARK}\n"
                f"  meta l4proto {sp.protocol} dnat to {ip}:{port}\n}}"
            )
        chains.append(
            f"chain {svc_chain} {{\n"
            f"  numgen random mod {len(sp.endpoints)} vmap {{ {', '.join(verdicts)} }}\n}}"
        )

    def block(name: str, rules: list[str], hook: str = "") -> str:
        body = "".join(f"  {r}\n" for r in ([hook] if hook else []) + rules)
        return f"chain {name} {{\n{body}}}"

    parts = [
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

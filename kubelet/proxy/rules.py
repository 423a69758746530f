"""Services + Endpoints -> the body of one nftables table (pure; applied atomically elsewhere).

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


def service_ports(services: Iterable[Mapping[str, Any]],
                  endpoints: Mapping[tuple[str, str], Mapping[str, Any]]) -> list[ServicePort]:
    """Flatten services and their Endpoints into the ports to program, in a stable order."""
    out: list[ServicePort] = []
    for svc in services:
        meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
        ip = spec.get("clusterIP") or ""
        if not ip or ip == "None" or spec.get("type") == "ExternalName":
            continue
        ns, name = meta.get("namespace", "default"), meta.get("name", "")
        ep = endpoints.get((ns, name)) or {}
        for p in spec.get("ports") or []:
            pname = p.get("name", "")
            targets: set[tuple[str, int]] = set()
            for subset in ep.get("subsets") or []:
                ports = [q for q in subset.get("ports") or [] if q.get("name", "") == pname]
                if not ports:
                    continue
                for addr in subset.get("addresses") or []:
                    targets.add((addr["ip"], int(ports[0]["port"])))
            out.append(ServicePort(ns, name, pname, p.get("protocol", "TCP").lower(), ip, int(p["port"]),
                                   int(p.get("nodePort") or 0) if spec.get("type") in ("NodePort", "LoadBalancer")
                                   else 0, tuple(sorted(targets))))
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
                noendpoints.append(f"fib daddr type local {sp.protocol} dport {sp.node_port} reject {comment}")
            continue
        svc_chain = f"svc_{i}"
        services.append(f"ip daddr {sp.cluster_ip} {sp.protocol} dport {sp.port} goto {svc_chain} {comment}")
        if sp.node_port:
            nodeports.append(f"{sp.protocol} dport {sp.node_port} meta mark set mark or {MASQ_MARK} "
                             f"goto {svc_chain} {comment}")
        verdicts = []
        for j, (ip, port) in enumerate(sp.endpoints):
            ep_chain = f"ep_{i}_{j}"
            verdicts.append(f"{j} : goto {ep_chain}")
            chains.append(f"chain {ep_chain} {{\n"
                          f"  ip saddr {ip} meta mark set mark or {MASQ_MARK}\n"
                          f"  meta l4proto {sp.protocol} dnat to {ip}:{port}\n}}")
        chains.append(f"chain {svc_chain} {{\n"
                      f"  numgen random mod {len(sp.endpoints)} vmap {{ {', '.join(verdicts)} }}\n}}")

    def block(name: str, rules: list[str], hook: str = "") -> str:
        body = "".join(f"  {r}\n" for r in ([hook] if hook else []) + rules)
        return f"chain {name} {{\n{body}}}"

    parts = [
        block("services", services),
        block("nodeports", nodeports),
        block("noendpoints", noendpoints),
        *chains,
        block("prerouting", ["jump services", "fib daddr type local jump nodeports"],
              "type nat hook prerouting priority dstnat; policy accept;"),
        block("output", ["jump services", "fib daddr type local jump nodeports"],
              "type nat hook output priority -100; policy accept;"),
        block("postrouting", [f"meta mark and {MASQ_MARK} == {MASQ_MARK} masquerade"],
              "type nat hook postrouting priority srcnat; policy accept;"),
        block("filter_output", ["jump noendpoints"], "type filter hook output priority filter; policy accept;"),
        block("filter_forward", ["jump noendpoints"], "type filter hook forward priority filter; policy accept;"),
        block("filter_input", ["jump noendpoints"], "type filter hook input priority filter; policy accept;"),
    ]
    return "\n".join(parts) + "\n"

"""NetworkPolicies -> the body of one nftables table on a node (pure; applied atomically elsewhere).

Where the rules sit: the node's `forward` hook. Every packet between pods crosses it after the
service proxy's DNAT (prerouting), so the rules see pod addresses, never ClusterIPs: pod to pod on
one node (bridged, and passed to the ip hooks by br_netfilter), between nodes (routed) and through
services alike. What the node itself sends to its pods leaves by `output` and is never filtered,
as kube requires (a pod cannot shut out its own node: the kubelet's probes); what a pod sends to
its node arrives by `input` and is not filtered either. The cluster DNS is served by the nodes,
not by pods (kube-dns's endpoints are node addresses), so no policy could name it as a peer: a
query to the kube-dns Service address passes an egress check wherever the proxy sends it.

What is enforced (kube's networking.k8s.io/v1 semantics):
- a pod is isolated for ingress when a policy of its namespace selects it with Ingress among its
  policyTypes (unset: Ingress, plus Egress when the policy has egress rules); likewise for egress;
- an isolated pod is allowed what any rule of any policy selecting it allows (a union): a rule
  allows its peers (`from` / `to`; none listed: everyone) on its ports (none listed: every port
  and protocol);
- a peer is pods (a podSelector in the policy's namespace, the pods of the namespaces a
  namespaceSelector matches, or both together) or an ipBlock (a CIDR less its excepts);
- a named port is looked up among the container ports of the pod the traffic goes to: the
  isolated pod for ingress, each peer pod for egress;
- the replies of an allowed connection pass both ways (conntrack).
Each node checks only its own pods, so a connection between two nodes meets the sender's egress
rules on one and the receiver's ingress rules on the other.

Layout of table `ip kubelite-netpol`: `forward` accepts established flows, then jumps by source
address to the egress chain of an isolated pod (`out_N`: an allowed packet returns, the rest is
dropped) and by destination address to its ingress chain (`in_N`: allowed is accepted, the rest
dropped). Dropped, not rejected, as the common CNI plugins do. No isolated pod on the node: no
table at all.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from api.selectors import LabelSelector, selector_from_label_selector

TABLE = "kubelite-netpol"
_PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}
Obj = Mapping[str, Any]


@dataclass(frozen=True)
class PodAddr:
    """What the rules need of a pod: where it is, its labels and its named ports."""

    namespace: str
    name: str
    ip: str
    node: str
    labels: Mapping[str, str]
    ports: tuple[tuple[str, str, int], ...]  # (name, protocol, containerPort) of its named ports


def pod_addrs(pods: Iterable[Obj]) -> list[PodAddr]:
    """The pods policies apply to and name: those with an address of their own (not on the host's
    network) that have not finished."""
    out = []
    for p in pods:
        meta, spec, status = p.get("metadata") or {}, p.get("spec") or {}, p.get("status") or {}
        ip = status.get("podIP")
        if not ip or spec.get("hostNetwork") or status.get("phase") in ("Succeeded", "Failed"):
            continue
        ports = tuple(
            (str(cp["name"]), str(cp.get("protocol") or "TCP"), int(cp["containerPort"]))
            for c in [*(spec.get("containers") or ()), *(spec.get("initContainers") or ())]
            for cp in c.get("ports") or ()
            if cp.get("name") and isinstance(cp.get("containerPort"), int)
        )
        out.append(
            PodAddr(
                str(meta.get("namespace") or "default"),
                str(meta.get("name") or ""),
                str(ip),
                str(spec.get("nodeName") or ""),
                meta.get("labels") or {},
                ports,
            )
        )
    return sorted(out, key=lambda a: (a.namespace, a.name))


def policy_types(policy: Obj) -> frozenset[str]:
    spec = policy.get("spec") or {}
    given = spec.get("policyTypes")
    if given:
        return frozenset(given)
    return frozenset({"Ingress", "Egress"} if spec.get("egress") else {"Ingress"})


def _selector(sel: Any) -> LabelSelector | None:
    """A selector to match with; None (matching nothing) for one validation would have refused."""
    try:
        return selector_from_label_selector(sel if isinstance(sel, Mapping) else {})
    except ValueError:
        return None


@dataclass(frozen=True)
class _Port:
    protocol: str  # tcp | udp | sctp
    port: int | str | None  # None: every port of the protocol
    end: int | None = None


def _ports(rule: Obj) -> list[_Port]:
    return [
        _Port(_PROTOCOLS.get(str(p.get("protocol") or "TCP"), "tcp"), p.get("port"), p.get("endPort"))
        for p in rule.get("ports") or ()
        if isinstance(p, Mapping)
    ]


def _named(pod: PodAddr, name: str, protocol: str) -> list[int]:
    return sorted({n for pn, proto, n in pod.ports if pn == name and _PROTOCOLS.get(proto) == protocol})


def _spans(ranges: Iterable[tuple[int, int]]) -> str:
    """Port ranges merged into disjoint ones (nft refuses overlapping intervals in a set)."""
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in merged)


def _port_matches(ports: Sequence[_Port], target: PodAddr | None) -> list[str]:
    """One match per protocol (`tcp dport { 80, 8000-8080 }`, `meta l4proto udp`); named ports are
    those of `target`. Empty when no port can match."""
    every: set[str] = set()
    ranges: dict[str, list[tuple[int, int]]] = {}
    for p in ports:
        if p.port is None:
            every.add(p.protocol)
        elif isinstance(p.port, int):
            ranges.setdefault(p.protocol, []).append((p.port, p.end or p.port))
        elif target is not None:
            ranges.setdefault(p.protocol, []).extend((n, n) for n in _named(target, p.port, p.protocol))
    out = [f"meta l4proto {proto}" for proto in sorted(every)]
    out += [
        f"{proto} dport {{ {_spans(r)} }}" for proto, r in sorted(ranges.items()) if r and proto not in every
    ]
    return out


def _block(peer: Obj) -> tuple[ipaddress.IPv4Network, list[ipaddress.IPv4Network]] | None:
    """An ipBlock peer's network and its excepts (IPv4 only, as the cluster is)."""
    block = peer.get("ipBlock") or {}
    try:
        net = ipaddress.ip_network(str(block.get("cidr")), strict=False)
        excepts = [ipaddress.ip_network(str(e), strict=False) for e in block.get("except") or ()]
    except ValueError:
        return None
    if not isinstance(net, ipaddress.IPv4Network):
        return None
    return net, [e for e in excepts if isinstance(e, ipaddress.IPv4Network)]


def _in_block(ip: str, block: tuple[ipaddress.IPv4Network, list[ipaddress.IPv4Network]]) -> bool:
    addr = ipaddress.IPv4Address(ip)
    return addr in block[0] and not any(addr in e for e in block[1])


class Peers:
    """How policies' peers resolve against the pods and namespace labels of the cluster, for one
    rebuild. A rule is met once per pod it isolates, so what a peer names is worked out once
    (memoized by the identity of the policy's own peer objects, alive for the rebuild), and each
    distinct set of addresses becomes one named nft set that every rule naming it refers to: a
    namespace's pods are listed once, not once per isolated pod."""

    def __init__(self, pods: Sequence[PodAddr], namespace_labels: Mapping[str, Mapping[str, str]]) -> None:
        self.pods = pods
        self.namespace_labels = namespace_labels
        self.sets: dict[tuple[str, ...], str] = {}  # addresses -> the name of their set
        self._pods_of: dict[tuple[int, str], list[PodAddr]] = {}
        self._matches: dict[tuple[int, str, str], list[str]] = {}

    def pods_of(self, peer: Obj, policy_namespace: str) -> list[PodAddr]:
        """The pods a podSelector/namespaceSelector peer names (none for an ipBlock)."""
        key = (id(peer), policy_namespace)
        found = self._pods_of.get(key)
        if found is None:
            found = self._pods_of[key] = self._resolve(peer, policy_namespace)
        return found

    def _resolve(self, peer: Obj, policy_namespace: str) -> list[PodAddr]:
        if "ipBlock" in peer:
            return []
        pod_sel, ns_sel = peer.get("podSelector"), peer.get("namespaceSelector")
        if pod_sel is None and ns_sel is None:
            return []
        namespaces = {policy_namespace}
        if ns_sel is not None:
            match = _selector(ns_sel)
            namespaces = {n for n, labels in self.namespace_labels.items() if match and match.matches(labels)}
        pods_match = _selector(pod_sel) if pod_sel is not None else None
        return [
            p
            for p in self.pods
            if p.namespace in namespaces
            and (pod_sel is None or (pods_match and pods_match.matches(p.labels)))
        ]

    def matches(self, peers: Sequence[Obj], policy_namespace: str, side: str) -> list[str]:
        """Address matches for a rule's (non-empty) peers (`side` saddr | daddr): every peer pod's
        address in one named set, then one match per ipBlock. Empty when they name no address."""
        key = (id(peers), policy_namespace, side)
        found = self._matches.get(key)
        if found is None:
            found = self._matches[key] = self._match(peers, policy_namespace, side)
        return found

    def _match(self, peers: Sequence[Obj], policy_namespace: str, side: str) -> list[str]:
        ips = tuple(
            sorted(
                {p.ip for peer in peers for p in self.pods_of(peer, policy_namespace)},
                key=ipaddress.IPv4Address,
            )
        )
        out = [f"ip {side} @{self.sets.setdefault(ips, f'peers_{len(self.sets)}')}"] if ips else []
        for peer in peers:
            block = _block(peer) if "ipBlock" in peer else None
            if block is not None:
                match = f"ip {side} {block[0]}"
                excepts = list(ipaddress.collapse_addresses(block[1]))
                if excepts:
                    match += f" ip {side} != {{ {', '.join(map(str, excepts))} }}"
                out.append(match)
        return out

    def set_definitions(self) -> list[str]:
        return [
            f"  set {name} {{\n    type ipv4_addr\n    elements = {{ {', '.join(ips)} }}\n  }}\n"
            for ips, name in self.sets.items()
        ]

    def candidates(self, peers: Sequence[Obj], policy_namespace: str) -> list[PodAddr]:
        """The pods a rule's peers could be (for named ports): all of them when none are listed."""
        if not peers:
            return list(self.pods)
        named = {(p.namespace, p.name) for peer in peers for p in self.pods_of(peer, policy_namespace)}
        blocks = [b for peer in peers if "ipBlock" in peer and (b := _block(peer)) is not None]
        return [
            p for p in self.pods if (p.namespace, p.name) in named or any(_in_block(p.ip, b) for b in blocks)
        ]


def _ingress(pod: PodAddr, rules: Sequence[tuple[str, Obj]], peers: Peers) -> list[str]:
    lines = []
    for namespace, rule in rules:
        ports = _ports(rule)
        port_matches = _port_matches(ports, pod) if ports else [""]
        sources = peers.matches(rule.get("from") or [], namespace, "saddr") if rule.get("from") else [""]
        lines += [" ".join(filter(None, (s, p, "accept"))) for s in sources for p in port_matches]
    return lines


def _egress(rules: Sequence[tuple[str, Obj]], peers: Peers, dns_ip: str) -> list[str]:
    # the cluster DNS is the nodes' (no pod serves it): queries to its Service address pass, as
    # those that land on the pod's own node do (`input`); the address before the DNAT says so
    lines = [f"ct original ip daddr {dns_ip} return"] if dns_ip else []
    for namespace, rule in rules:
        ports, to = _ports(rule), rule.get("to") or []
        dests = peers.matches(to, namespace, "daddr") if to else [""]
        numbered = [p for p in ports if not isinstance(p.port, str)]
        port_matches = _port_matches(numbered, None) if numbered else ([] if ports else [""])
        lines += [" ".join(filter(None, (d, p, "return"))) for d in dests for p in port_matches]
        named = [p for p in ports if isinstance(p.port, str)]
        if named:  # each destination pod's own number for the name: address . port pairs
            pairs: dict[str, set[tuple[str, int]]] = {}
            for pod in peers.candidates(to, namespace):
                for p in named:
                    pairs.setdefault(p.protocol, set()).update(
                        (pod.ip, n) for n in _named(pod, str(p.port), p.protocol)
                    )
            for proto, found in sorted(pairs.items()):
                if found:
                    elems = ", ".join(
                        f"{ip} . {n}"
                        for ip, n in sorted(found, key=lambda x: (ipaddress.IPv4Address(x[0]), x[1]))
                    )
                    lines.append(f"ip daddr . {proto} dport {{ {elems} }} return")
    return lines


def ruleset(
    policies: Iterable[Obj],
    pods: Sequence[PodAddr],
    namespace_labels: Mapping[str, Mapping[str, str]],
    node: str,
    dns_ip: str = "",
) -> str:
    """The table's body for the isolated pods on `node`; "" when none is isolated (no table).
    Pods whose rules come out the same share one chain (every pod of a namespace under its
    deny-all, say)."""
    by_namespace: dict[str, list[tuple[Obj, LabelSelector, frozenset[str]]]] = {}
    for pol in policies:
        sel = _selector((pol.get("spec") or {}).get("podSelector"))  # absent decodes as {}: every pod
        if sel is not None:
            ns = str((pol.get("metadata") or {}).get("namespace") or "")
            by_namespace.setdefault(ns, []).append((pol, sel, policy_types(pol)))
    peers = Peers(pods, namespace_labels)
    chains: dict[tuple[str, str], str] = {}  # (in | out, body) -> chain name
    counted = {"in": 0, "out": 0}
    verdicts: dict[str, list[str]] = {"Ingress": [], "Egress": []}
    for pod in (p for p in pods if p.node == node):
        selecting = [
            (pol, types) for pol, sel, types in by_namespace.get(pod.namespace, ()) if sel.matches(pod.labels)
        ]
        for kind, rules_key, prefix in (("Ingress", "ingress", "in"), ("Egress", "egress", "out")):
            isolating = [pol for pol, types in selecting if kind in types]
            if not isolating:
                continue
            rules = [
                (pod.namespace, r)
                for pol in isolating
                for r in (pol.get("spec") or {}).get(rules_key) or ()
                if isinstance(r, Mapping)
            ]
            lines = _ingress(pod, rules, peers) if kind == "Ingress" else _egress(rules, peers, dns_ip)
            body = "".join(f"    {line}\n" for line in [*lines, "drop"])
            chain = chains.get((prefix, body))
            if chain is None:
                chain = chains[prefix, body] = f"{prefix}_{counted[prefix]}"
                counted[prefix] += 1
            verdicts[kind].append(f"{pod.ip} : jump {chain}")
    if not chains:
        return ""
    forward = [
        "    type filter hook forward priority filter; policy accept;",
        "    ct state established,related accept",
    ]
    if verdicts["Egress"]:
        forward.append(f"    ip saddr vmap {{ {', '.join(verdicts['Egress'])} }}")
    if verdicts["Ingress"]:
        forward.append(f"    ip daddr vmap {{ {', '.join(verdicts['Ingress'])} }}")
    return (
        "".join(peers.set_definitions())
        + "  chain forward {\n"
        + "\n".join(forward)
        + "\n  }\n"
        + "".join(f"  chain {name} {{\n{body}  }}\n" for (_, body), name in chains.items())
    )

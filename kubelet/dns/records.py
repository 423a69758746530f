"""Names -> records of the Kubernetes DNS schema (pure: a question and a ClusterView in, an Answer out).

What is answered (kubernetes/dns docs/specification.md, schema 1.1.0; CoreDNS's choices where
the spec leaves one open), `<zone>` being the cluster domain:
- `<svc>.<ns>.svc.<zone>` A: the ClusterIP; headless (clusterIP None): one A per ready address;
  ExternalName: a CNAME to `spec.externalName`;
- `<host>.<svc>.<ns>.svc.<zone>` A: the ready address whose `hostname` is `<host>` (StatefulSet
  pods), or whose dashed IP is `<host>` (CoreDNS's name for an endpoint without a hostname);
- `_<port>._<proto>.<svc>.<ns>.svc.<zone>` SRV for named ports, with the targets' A records
  in the additional section;
- `<a-b-c-d>.<ns>.pod.<zone>` A, only if a pod of `<ns>` has that IP (CoreDNS `pods verified`);
- PTR of service IPs and of endpoint addresses with a hostname; `dns-version.<zone>` TXT.
A name in the zone that exists with no record of the asked type gets NOERROR with the SOA
(NODATA); an unknown name gets NXDOMAIN with the SOA. `answer` returns None for names the
cluster does not own (the caller forwards them). Comparisons are case-insensitive.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.IN.A
import dns.rrset

Obj = dict[str, Any]
TTL = 5  # seconds: CoreDNS's kubernetes plugin default
SCHEMA_VERSION = "1.1.0"
_REVERSE = dns.name.from_text("in-addr.arpa.")


class ClusterView(Protocol):
    """What the answers are made of (informer caches), and what an answer read from it (for caching)."""

    def start_reads(self) -> None: ...

    def stop_reads(self) -> Any: ...  # what was read since start_reads

    def unchanged(self, reads: Any) -> bool: ...  # whether all of it is still as it was read

    def service(self, namespace: str, name: str) -> Obj | None: ...

    def endpoints(self, namespace: str, name: str) -> Obj | None: ...

    def namespace_known(self, namespace: str) -> bool: ...

    def pod_ip_in(self, namespace: str, ip: str) -> bool: ...

    def names_for_ip(self, ip: str) -> list[str]: ...  # PTR targets, relative to the zone


@dataclass
class Answer:
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR
    answer: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    additional: list[dns.rrset.RRset] = field(default_factory=list)


def _rrset(
    name: dns.name.Name, rdtype: dns.rdatatype.RdataType, texts: list[str], ttl: int = TTL
) -> dns.rrset.RRset:
    if rdtype == dns.rdatatype.A:  # the hot case: built directly, without dnspython's text parser
        rrset = dns.rrset.RRset(name, dns.rdataclass.IN, rdtype)
        rrset.update_ttl(ttl)
        for ip in texts:
            rrset.add(dns.rdtypes.IN.A.A(dns.rdataclass.IN, rdtype, ip))
        return rrset
    return dns.rrset.from_text_list(name, ttl, dns.rdataclass.IN, rdtype, texts)


def soa(zone: dns.name.Name, ttl: int = TTL) -> dns.rrset.RRset:
    """The zone's SOA, sent in the authority section of negative answers (minimum = the record TTL)."""
    return _rrset(zone, dns.rdatatype.SOA, [f"ns.dns.{zone} hostmaster.{zone} 1 7200 1800 86400 {ttl}"], ttl)


def ready_addresses(endpoints: Obj | None, service: Obj) -> Iterator[tuple[Obj, list[Obj]]]:
    """(address, its subset's ports) for each ready address; unready ones too when the service publishes them."""
    spec = service.get("spec") or {}
    tolerate = bool(spec.get("publishNotReadyAddresses")) or (
        ((service.get("metadata") or {}).get("annotations") or {}).get(
            "service.alpha.kubernetes.io/tolerate-unready-endpoints"
        )
        == "true"
    )
    for subset in (endpoints or {}).get("subsets") or []:
        ports = list(subset.get("ports") or [])
        addrs = list(subset.get("addresses") or [])
        if tolerate:
            addrs += subset.get("notReadyAddresses") or []
        for addr in addrs:
            yield addr, ports


def endpoint_host(addr: Obj) -> str:
    """The endpoint's name under its service: its hostname, else its IP with dashes (CoreDNS)."""
    return str(addr.get("hostname") or str(addr.get("ip", "")).replace(".", "-").replace(":", "-"))


def _service_records(
    view: ClusterView, zone: dns.name.Name, qname: dns.name.Name, qtype: int, labels: list[str]
) -> Answer:
    """`labels` are the ones left of `.svc.<zone>`, lowercase."""
    out = Answer()
    if len(labels) == 1:  # <ns>.svc.<zone>: an empty non-terminal when the namespace is known
        return out if view.namespace_known(labels[0]) else Answer(dns.rcode.NXDOMAIN)
    ns, name = labels[-1], labels[-2]
    svc = view.service(ns, name)
    if svc is None or len(labels) > 4:
        return Answer(dns.rcode.NXDOMAIN)
    spec = svc.get("spec") or {}
    headless = spec.get("clusterIP") in (None, "", "None")
    eps = view.endpoints(ns, name)
    if len(labels) == 2:
        if spec.get("type") == "ExternalName":
            target = dns.name.from_text(str(spec.get("externalName") or "").rstrip(".") + ".")
            out.answer.append(_rrset(qname, dns.rdatatype.CNAME, [target.to_text()]))
        elif qtype in (dns.rdatatype.A, dns.rdatatype.ANY):
            ips = [a["ip"] for a, _ in ready_addresses(eps, svc)] if headless else [spec["clusterIP"]]
            v4 = sorted({ip for ip in ips if ":" not in ip})
            if v4:
                out.answer.append(_rrset(qname, dns.rdatatype.A, v4))
        return out
    if len(labels) == 3:  # <host>.<svc>.<ns>.svc: an endpoint of a headless service
        host = labels[0]
        ips = sorted(
            {
                a["ip"]
                for a, _ in ready_addresses(eps, svc)
                if endpoint_host(a).lower() == host and ":" not in a["ip"]
            }
        )
        if not ips or not headless:
            # `_<proto>.<svc>...` exists as an empty non-terminal of the SRV records below it
            if host.startswith("_") and any(
                p.get("name") and "_" + str(p.get("protocol", "TCP")).lower() == host
                for p in spec.get("ports") or []
            ):
                return out
            return Answer(dns.rcode.NXDOMAIN)
        if qtype in (dns.rdatatype.A, dns.rdatatype.ANY):
            out.answer.append(_rrset(qname, dns.rdatatype.A, ips))
        return out
    port, proto = labels[0], labels[1]  # _<port>._<proto>.<svc>.<ns>.svc
    if not (port.startswith("_") and proto.startswith("_")):
        return Answer(dns.rcode.NXDOMAIN)
    records = _srv(svc, eps, dns.name.from_text(f"{name}.{ns}.svc", zone), qname, port[1:], proto[1:], out)
    if not records:
        return Answer(dns.rcode.NXDOMAIN)
    if qtype in (dns.rdatatype.SRV, dns.rdatatype.ANY):
        out.answer += records
    else:
        out.additional.clear()
    return out


def _srv(
    svc: Obj,
    eps: Obj | None,
    base: dns.name.Name,
    qname: dns.name.Name,
    port_name: str,
    proto: str,
    out: Answer,
) -> list[dns.rrset.RRset]:
    """SRV records of the service's named port `port_name`/`proto` (unnamed ports have none)."""
    spec = svc.get("spec") or {}
    headless = spec.get("clusterIP") in (None, "", "None")
    texts: list[str] = []
    extra: dict[dns.name.Name, list[str]] = {}
    for p in spec.get("ports") or []:
        pname, pproto = str(p.get("name") or ""), str(p.get("protocol") or "TCP").lower()
        if not pname or pname.lower() != port_name or pproto != proto:
            continue
        if not headless:
            if spec.get("clusterIP"):
                texts.append(f"0 100 {int(p['port'])} {base}")
                extra[base] = [spec["clusterIP"]]
            continue
        targets = [
            (a, q)
            for a, ports in ready_addresses(eps, svc)
            for q in ports
            if str(q.get("name") or "") == pname and str(q.get("protocol") or "TCP").lower() == pproto
        ]
        for addr, q in targets:
            host = dns.name.from_text(endpoint_host(addr), base)
            texts.append(f"0 {max(1, 100 // len(targets))} {int(q['port'])} {host}")
            extra.setdefault(host, []).append(addr["ip"])
    for host, ips in sorted(extra.items()):
        out.additional.append(_rrset(host, dns.rdatatype.A, sorted(set(ips))))
    return [_rrset(qname, dns.rdatatype.SRV, sorted(set(texts)))] if texts else []


def _pod_records(view: ClusterView, qname: dns.name.Name, qtype: int, labels: list[str]) -> Answer:
    if len(labels) == 1:
        return Answer() if view.namespace_known(labels[0]) else Answer(dns.rcode.NXDOMAIN)
    if len(labels) != 2:
        return Answer(dns.rcode.NXDOMAIN)
    dashed, ns = labels
    try:
        ip = str(ipaddress.IPv4Address(dashed.replace("-", ".")))
    except ValueError:
        return Answer(dns.rcode.NXDOMAIN)
    if not view.pod_ip_in(ns, ip):
        return Answer(dns.rcode.NXDOMAIN)
    out = Answer()
    if qtype in (dns.rdatatype.A, dns.rdatatype.ANY):
        out.answer.append(_rrset(qname, dns.rdatatype.A, [ip]))
    return out


def _reverse(view: ClusterView, zone: dns.name.Name, qname: dns.name.Name, qtype: int) -> Answer | None:
    octets = [lab.decode(errors="replace") for lab in qname.relativize(_REVERSE).labels][::-1]
    if len(octets) != 4:
        return None
    names = view.names_for_ip(".".join(octets))
    if not names:
        return None  # not ours: the upstream may know it
    out = Answer()
    if qtype in (dns.rdatatype.PTR, dns.rdatatype.ANY):
        out.answer.append(
            _rrset(qname, dns.rdatatype.PTR, sorted(dns.name.from_text(n, zone).to_text() for n in names))
        )
    return out


def answer(view: ClusterView, zone: dns.name.Name, qname: dns.name.Name, qtype: int) -> Answer | None:
    """The answer to one question, or None when the name is not the cluster's (forward it)."""
    if qname.is_subdomain(_REVERSE):
        return _reverse(view, zone, qname, qtype)
    if not qname.is_subdomain(zone):
        return None
    labels = [lab.decode(errors="replace").lower() for lab in qname.relativize(zone).labels]
    if not labels:  # the apex
        out = Answer()
        if qtype == dns.rdatatype.SOA:
            out.answer.append(soa(zone))
        elif qtype == dns.rdatatype.NS:
            out.answer.append(_rrset(zone, dns.rdatatype.NS, [f"ns.dns.{zone}"]))
        return out
    if labels == ["dns-version"]:
        out = Answer()
        if qtype in (dns.rdatatype.TXT, dns.rdatatype.ANY):
            out.answer.append(_rrset(qname, dns.rdatatype.TXT, [f'"{SCHEMA_VERSION}"']))
        return out
    if labels[-1] == "svc":
        return _service_records(view, zone, qname, qtype, labels[:-1]) if len(labels) > 1 else Answer()
    if labels[-1] == "pod":
        return _pod_records(view, qname, qtype, labels[:-1]) if len(labels) > 1 else Answer()
    return Answer(dns.rcode.NXDOMAIN)

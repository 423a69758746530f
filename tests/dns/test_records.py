"""Names -> records, from informer caches (no sockets): the Kubernetes DNS schema, case by case."""

from __future__ import annotations

import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from api.informer import key_of
from kubelet.dns.records import Answer, answer
from tests.dns.fixtures import cluster, pod

ZONE = dns.name.from_text("cluster.local.")
A, AAAA, SRV, PTR, TXT, CNAME, SOA = (
    dns.rdatatype.A,
    dns.rdatatype.AAAA,
    dns.rdatatype.SRV,
    dns.rdatatype.PTR,
    dns.rdatatype.TXT,
    dns.rdatatype.CNAME,
    dns.rdatatype.SOA,
)


def ask(name: str, qtype: dns.rdatatype.RdataType = A) -> Answer:
    view, _ = cluster()
    got = answer(view, ZONE, dns.name.from_text(name), qtype)
    assert got is not None, f"{name} was not answered"
    return got


def texts(a: Answer, section: str = "answer") -> list[str]:
    return sorted(rd.to_text() for rrset in getattr(a, section) for rd in rrset)


def test_service_a_is_its_cluster_ip_case_insensitive() -> None:
    a = ask("WEB.Default.svc.cluster.local.")
    assert a.rcode == dns.rcode.NOERROR and texts(a) == ["10.96.0.20"]
    assert a.answer[0].ttl == 5


def test_service_aaaa_is_nodata_not_nxdomain() -> None:
    a = ask("web.default.svc.cluster.local.", AAAA)
    assert a.rcode == dns.rcode.NOERROR and a.answer == []


def test_headless_service_has_one_a_per_ready_address() -> None:
    assert texts(ask("db.default.svc.cluster.local.")) == ["10.244.0.7", "10.244.1.8", "10.244.1.9"]


def test_headless_service_without_endpoints_is_empty_not_nxdomain() -> None:
    a = ask("empty.other.svc.cluster.local.")
    assert a.rcode == dns.rcode.NOERROR and a.answer == []


def test_endpoint_hostname_records() -> None:
    assert texts(ask("db-1.db.default.svc.cluster.local.")) == ["10.244.1.8"]
    assert texts(ask("10-244-1-9.db.default.svc.cluster.local.")) == ["10.244.1.9"]  # no hostname: dashed IP
    assert ask("db-2.db.default.svc.cluster.local.").rcode == dns.rcode.NXDOMAIN  # not ready
    assert ask("db-0.web.default.svc.cluster.local.").rcode == dns.rcode.NXDOMAIN  # not headless


def test_srv_of_a_cluster_ip_service_points_at_the_service() -> None:
    a = ask("_http._tcp.web.default.svc.cluster.local.", SRV)
    assert texts(a) == ["0 100 80 web.default.svc.cluster.local."]
    assert texts(a, "additional") == ["10.96.0.20"]
    assert texts(ask("_dns._udp.web.default.svc.cluster.local.", SRV)) == [
        "0 100 53 web.default.svc.cluster.local."
    ]
    assert ask("_http._udp.web.default.svc.cluster.local.", SRV).rcode == dns.rcode.NXDOMAIN
    assert ask("_nope._tcp.web.default.svc.cluster.local.", SRV).rcode == dns.rcode.NXDOMAIN


def test_srv_of_a_headless_service_names_each_ready_endpoint() -> None:
    a = ask("_pg._tcp.db.default.svc.cluster.local.", SRV)
    assert texts(a) == [
        "0 33 5432 10-244-1-9.db.default.svc.cluster.local.",
        "0 33 5432 db-0.db.default.svc.cluster.local.",
        "0 33 5432 db-1.db.default.svc.cluster.local.",
    ]
    assert texts(a, "additional") == ["10.244.0.7", "10.244.1.8", "10.244.1.9"]


def test_srv_name_asked_for_a_is_nodata() -> None:
    a = ask("_pg._tcp.db.default.svc.cluster.local.", A)
    assert a.rcode == dns.rcode.NOERROR and a.answer == [] and a.additional == []


def test_external_name_is_a_cname() -> None:
    a = ask("ext.default.svc.cluster.local.")
    assert a.answer[0].rdtype == CNAME and texts(a) == ["example.org."]


def test_unknown_names_in_the_zone_are_nxdomain() -> None:
    for name in (
        "nope.default.svc.cluster.local.",
        "web.nope.svc.cluster.local.",
        "x.cluster.local.",
        "a.b.web.default.svc.cluster.local.",
        "nope.svc.cluster.local.",
    ):
        assert ask(name).rcode == dns.rcode.NXDOMAIN, name


def test_empty_non_terminals_are_nodata() -> None:
    for name in (
        "cluster.local.",
        "svc.cluster.local.",
        "default.svc.cluster.local.",
        "pod.cluster.local.",
        "default.pod.cluster.local.",
        "_tcp.web.default.svc.cluster.local.",
    ):
        a = ask(name)
        assert a.rcode == dns.rcode.NOERROR and a.answer == [], name


def test_pod_records_only_for_pods_that_exist() -> None:
    assert texts(ask("10-244-0-12.default.pod.cluster.local.")) == ["10.244.0.12"]
    assert ask("10-244-0-12.other.pod.cluster.local.").rcode == dns.rcode.NXDOMAIN
    assert ask("10-244-0-13.default.pod.cluster.local.").rcode == dns.rcode.NXDOMAIN
    assert ask("not-an-ip.default.pod.cluster.local.").rcode == dns.rcode.NXDOMAIN


def test_pod_index_follows_ip_changes_and_deletes() -> None:
    view, inf = cluster()
    pods = inf["pods"]
    moved = pod("client", "default", "10.244.0.50")
    moved["metadata"]["resourceVersion"] = "2"
    pods._apply("MODIFIED", key_of(moved), moved)
    assert view.pod_ip_in("default", "10.244.0.50") and not view.pod_ip_in("default", "10.244.0.12")
    pods._apply("DELETED", key_of(moved), moved)
    assert not view.pod_ip_in("default", "10.244.0.50") and not view.namespace_known("nowhere")


def test_ptr_for_service_ips_and_named_endpoints() -> None:
    assert texts(ask("20.0.96.10.in-addr.arpa.", PTR)) == ["web.default.svc.cluster.local."]
    assert texts(ask("8.1.244.10.in-addr.arpa.", PTR)) == ["db-1.db.default.svc.cluster.local."]
    view, _ = cluster()
    assert answer(view, ZONE, dns.name.from_text("1.1.168.192.in-addr.arpa."), PTR) is None  # forwarded


def test_ptr_index_is_rebuilt_after_a_service_change() -> None:
    view, inf = cluster()
    assert view.names_for_ip("10.96.0.30") == []
    s = inf["services"].get("default/web")
    assert s is not None
    changed = {
        **s,
        "metadata": {**s["metadata"], "resourceVersion": "9"},
        "spec": {**s["spec"], "clusterIP": "10.96.0.30"},
    }
    inf["services"]._apply("MODIFIED", "default/web", changed)
    assert view.names_for_ip("10.96.0.30") == ["web.default.svc"]


@pytest.mark.parametrize("name", ["example.org.", "cluster.local.example.org.", "local."])
def test_names_outside_the_zone_are_not_answered(name: str) -> None:
    view, _ = cluster()
    assert answer(view, ZONE, dns.name.from_text(name), A) is None


def test_apex_soa_and_schema_version() -> None:
    assert texts(ask("cluster.local.", SOA))[0].startswith("ns.dns.cluster.local. hostmaster.cluster.local.")
    assert texts(ask("dns-version.cluster.local.", TXT)) == ['"1.1.0"']


def test_an_answer_holds_until_what_it_read_changes() -> None:
    view, inf = cluster()
    view.start_reads()
    answer(view, ZONE, dns.name.from_text("web.default.svc.cluster.local."), A)
    reads = view.stop_reads()
    assert view.unchanged(reads)
    db = inf["services"].get("default/db")
    assert db is not None
    inf["services"]._apply(
        "MODIFIED", "default/db", {**db, "metadata": {**db["metadata"], "resourceVersion": "5"}}
    )
    assert view.unchanged(reads)  # another service changed
    web = inf["services"].get("default/web")
    assert web is not None
    inf["services"]._apply(
        "MODIFIED", "default/web", {**web, "metadata": {**web["metadata"], "resourceVersion": "5"}}
    )
    assert not view.unchanged(reads)


def test_pod_answers_hold_until_a_pod_ip_changes() -> None:
    view, inf = cluster()
    view.start_reads()
    answer(view, ZONE, dns.name.from_text("10-244-0-12.default.pod.cluster.local."), A)
    reads = view.stop_reads()
    p = pod("other", "default", "10.244.0.40")
    inf["pods"]._apply("ADDED", key_of(p), p)
    assert not view.unchanged(reads)


def test_binary_labels_are_just_unknown_names() -> None:
    view, _ = cluster()
    odd = dns.name.Name([b"\xff\xfe", b"default", b"svc", b"cluster", b"local", b""])
    got = answer(view, ZONE, odd, A)
    assert got is not None and got.rcode == dns.rcode.NXDOMAIN
    assert (
        answer(view, ZONE, dns.name.Name([b"\xff", b"0", b"96", b"10", b"in-addr", b"arpa", b""]), PTR)
        is None
    )

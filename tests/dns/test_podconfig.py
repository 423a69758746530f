"""Each pod's resolv.conf and hosts, as the kubelet writes them (pure decisions, then the files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubelet.dns.podconfig import (
    PodDNS,
    ResolvConf,
    hosts_file,
    parse_resolv_conf,
    pod_hostname,
    pod_resolv_conf,
)

HOST = parse_resolv_conf(
    "# node\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch corp.example lab.example\n"
    "options timeout:2 rotate\n"
)
DNS = ["10.96.0.10"]


def pod(ns: str = "team", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web-0", "namespace": ns, "uid": "u1"}, "spec": {"containers": [], **spec}}


def test_host_resolv_conf_is_parsed() -> None:
    assert (
        ResolvConf(("10.0.0.2", "10.0.0.3"), ("corp.example", "lab.example"), ("timeout:2", "rotate")) == HOST
    )


def test_cluster_first_is_the_default() -> None:
    got = pod_resolv_conf(pod(), DNS, HOST)
    assert got.render() == (
        "nameserver 10.96.0.10\n"
        "search team.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\n"
        "options ndots:5\n"
    )


def test_default_policy_is_the_nodes_resolv_conf() -> None:
    assert pod_resolv_conf(pod(dnsPolicy="Default"), DNS, HOST) == HOST


def test_cluster_first_on_the_host_network_falls_back_to_the_node() -> None:
    assert pod_resolv_conf(pod(hostNetwork=True), DNS, HOST) == HOST
    assert pod_resolv_conf(
        pod(hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet"), DNS, HOST
    ).nameservers == ("10.96.0.10",)


def test_no_cluster_dns_configured_means_the_nodes() -> None:
    assert pod_resolv_conf(pod(), [], HOST) == HOST


def test_none_takes_only_dns_config() -> None:
    got = pod_resolv_conf(
        pod(
            dnsPolicy="None",
            dnsConfig={
                "nameservers": ["1.2.3.4"],
                "searches": ["ns1.svc.cluster-domain.example", "my.dns.search.suffix"],
                "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
            },
        ),
        DNS,
        HOST,
    )
    assert got.render() == (
        "nameserver 1.2.3.4\nsearch ns1.svc.cluster-domain.example my.dns.search.suffix\n"
        "options ndots:2 edns0\n"
    )


def test_dns_config_is_merged_into_the_policys_result() -> None:
    got = pod_resolv_conf(
        pod(
            dnsConfig={
                "nameservers": ["10.96.0.10", "9.9.9.9"],
                "searches": ["svc.cluster.local", "extra.example"],
                "options": [{"name": "ndots", "value": "1"}, {"name": "single-request-reopen"}],
            }
        ),
        DNS,
        HOST,
    )
    assert got.nameservers == ("10.96.0.10", "9.9.9.9")
    assert got.searches[-1] == "extra.example" and got.searches.count("svc.cluster.local") == 1
    assert got.options == ("ndots:1", "single-request-reopen")


def test_limits_three_nameservers_and_32_searches() -> None:
    got = pod_resolv_conf(
        pod(
            dnsPolicy="None",
            dnsConfig={
                "nameservers": [f"10.0.0.{i}" for i in range(1, 6)],
                "searches": [f"s{i}.example" for i in range(40)],
            },
        ),
        DNS,
        HOST,
    )
    assert len(got.nameservers) == 3 and len(got.searches) == 32


def test_hostname_and_subdomain() -> None:
    assert pod_hostname(pod()) == ("web-0", "")
    assert pod_hostname(pod(hostname="db-1", subdomain="db")) == ("db-1", "db.team.svc.cluster.local")
    long = {"metadata": {"name": "x" * 62 + "-abc", "namespace": "d"}, "spec": {}}
    assert pod_hostname(long) == ("x" * 62, "")  # cut to 63, no trailing dash


def test_hosts_file() -> None:
    text = hosts_file(
        pod(
            hostname="db-1",
            subdomain="db",
            hostAliases=[{"ip": "10.1.2.3", "hostnames": ["foo.local", "bar.local"]}],
        ),
        "10.244.0.5",
    )
    assert text.startswith("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n")
    assert "10.244.0.5\tdb-1.db.team.svc.cluster.local\tdb-1\n" in text
    assert text.endswith("\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n")
    assert "10.244.0.5\tweb-0\n" in hosts_file(pod(), "10.244.0.5")


def test_hosts_file_on_the_host_network_is_the_nodes() -> None:
    text = hosts_file(pod(hostNetwork=True), "", "127.0.0.1 localhost\n10.0.0.9 node-a")
    assert text == "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n10.0.0.9 node-a\n"


def test_files_are_written_and_mounted_and_rewritten_in_place(tmp_path: Path) -> None:
    resolv = tmp_path / "node-resolv.conf"
    resolv.write_text("nameserver 10.0.0.2\n")
    dns = PodDNS(DNS, resolv_conf=str(resolv))
    mounts = dns.etc_mounts(pod(), "10.244.0.5", tmp_path)
    by_path = {m.container_path: Path(m.host_path) for m in mounts}
    assert set(by_path) == {"/etc/resolv.conf", "/etc/hosts"}
    assert by_path["/etc/resolv.conf"].read_text().startswith("nameserver 10.96.0.10\n")
    inode = by_path["/etc/hosts"].stat().st_ino
    dns.etc_mounts(pod(hostAliases=[{"ip": "10.1.2.3", "hostnames": ["foo"]}]), "10.244.0.5", tmp_path)
    assert "10.1.2.3\tfoo" in by_path["/etc/hosts"].read_text()
    assert by_path["/etc/hosts"].stat().st_ino == inode  # running containers' bind mounts see it

"""The proxy's rule set: which ports get programmed, and that real `nft` accepts the table."""

import subprocess

from kubelet.proxy.rules import TABLE, ruleset, service_ports

SVC = {"metadata": {"namespace": "default", "name": "web"},
       "spec": {"type": "NodePort", "clusterIP": "10.96.0.12",
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080},
                          {"name": "dns", "port": 53, "protocol": "UDP"}]}}
EP = {"subsets": [{"addresses": [{"ip": "10.244.1.3"}, {"ip": "10.244.2.4"}],
                   "notReadyAddresses": [{"ip": "10.244.1.9"}],
                   "ports": [{"name": "http", "port": 8080, "protocol": "TCP"},
                             {"name": "dns", "port": 5353, "protocol": "UDP"}]}]}


def test_service_ports_take_ready_endpoints_by_port_name():
    ports = service_ports([SVC], {("default", "web"): EP})
    assert [(p.port_name, p.protocol, p.node_port, p.endpoints) for p in ports] == [
        ("dns", "udp", 0, (("10.244.1.3", 5353), ("10.244.2.4", 5353))),
        ("http", "tcp", 30080, (("10.244.1.3", 8080), ("10.244.2.4", 8080))),
    ]


def test_headless_and_external_name_services_are_skipped():
    headless = {"metadata": {"namespace": "d", "name": "h"}, "spec": {"clusterIP": "None", "ports": [{"port": 1}]}}
    ext = {"metadata": {"namespace": "d", "name": "e"}, "spec": {"type": "ExternalName", "externalName": "x"}}
    assert service_ports([headless, ext], {}) == []


def test_ruleset_balances_dnat_and_rejects_without_endpoints():
    lonely = {"metadata": {"namespace": "default", "name": "lonely"},
              "spec": {"clusterIP": "10.96.0.13", "ports": [{"port": 81, "protocol": "TCP"}]}}
    body = ruleset(service_ports([SVC, lonely], {("default", "web"): EP}))
    assert "numgen random mod 2" in body
    assert "dnat to 10.244.1.3:8080" in body and "dnat to 10.244.2.4:8080" in body
    assert "ip daddr 10.96.0.13 tcp dport 81 reject" in body
    assert "tcp dport 30080" in body
    assert "10.244.1.9" not in body  # not ready
    assert ruleset(service_ports([SVC, lonely], {("default", "web"): EP})) == body  # deterministic


def test_real_nft_accepts_the_table():
    body = ruleset(service_ports([SVC], {("default", "web"): EP}))
    script = f"table ip {TABLE}\ndelete table ip {TABLE}\ntable ip {TABLE} {{\n{body}}}\n"
    r = subprocess.run(["nft", "-c", "-f", "-"], input=script, text=True, capture_output=True)
    assert r.returncode == 0, r.stderr

"""The proxy's rule set: which ports get programmed, and that real `nft` accepts the table."""

import subprocess
from typing import Any

from kubelet.proxy.rules import TABLE, affinity_set, ruleset, service_ports, slices_by_service

SVC = {
    "metadata": {"namespace": "default", "name": "web"},
    "spec": {
        "type": "NodePort",
        "clusterIP": "10.96.0.12",
        "ports": [
            {"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080},
            {"name": "dns", "port": 53, "protocol": "UDP"},
        ],
    },
}
SLICE = {
    "metadata": {"namespace": "default", "name": "web-x1", "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "IPv4",
    "endpoints": [
        {"addresses": ["10.244.1.3"], "conditions": {"ready": True}},
        {"addresses": ["10.244.2.4"]},  # unset reads as ready
        {"addresses": ["10.244.1.9"], "conditions": {"ready": False, "serving": True, "terminating": True}},
    ],
    "ports": [
        {"name": "http", "port": 8080, "protocol": "TCP"},
        {"name": "dns", "port": 5353, "protocol": "UDP"},
    ],
}
# a second slice of the same service (more than 100 endpoints), and one of another service
SLICE2 = {
    "metadata": {"namespace": "default", "name": "web-x2", "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "IPv4",
    "endpoints": [{"addresses": ["10.244.3.5"], "conditions": {"ready": True}}],
    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
}
OTHER = {
    "metadata": {"namespace": "default", "name": "db-x", "labels": {"kubernetes.io/service-name": "db"}},
    "addressType": "IPv4",
    "endpoints": [{"addresses": ["10.244.9.9"], "conditions": {"ready": True}}],
    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
}
EP = slices_by_service([SLICE])


def test_service_ports_take_ready_endpoints_by_port_name():
    ports = service_ports([SVC], EP)
    assert [(p.port_name, p.protocol, p.node_port, p.endpoints) for p in ports] == [
        ("dns", "udp", 0, (("10.244.1.3", 5353), ("10.244.2.4", 5353))),
        ("http", "tcp", 30080, (("10.244.1.3", 8080), ("10.244.2.4", 8080))),
    ]


def test_every_slice_of_the_service_counts_and_only_its_own():
    ports = service_ports([SVC], slices_by_service([SLICE, SLICE2, OTHER]))
    http = next(p for p in ports if p.port_name == "http")
    assert http.endpoints == (("10.244.1.3", 8080), ("10.244.2.4", 8080), ("10.244.3.5", 8080))


def test_headless_and_external_name_services_are_skipped():
    headless = {
        "metadata": {"namespace": "d", "name": "h"},
        "spec": {"clusterIP": "None", "ports": [{"port": 1}]},
    }
    ext = {"metadata": {"namespace": "d", "name": "e"}, "spec": {"type": "ExternalName", "externalName": "x"}}
    assert service_ports([headless, ext], {}) == []


def test_ruleset_balances_dnat_and_rejects_without_endpoints():
    lonely = {
        "metadata": {"namespace": "default", "name": "lonely"},
        "spec": {"clusterIP": "10.96.0.13", "ports": [{"port": 81, "protocol": "TCP"}]},
    }
    body = ruleset(service_ports([SVC, lonely], EP))
    assert "numgen random mod 2" in body
    assert "dnat to 10.244.1.3:8080" in body and "dnat to 10.244.2.4:8080" in body
    assert "ip daddr 10.96.0.13 tcp dport 81 reject" in body
    assert "tcp dport 30080" in body
    assert "10.244.1.9" not in body  # not ready
    assert ruleset(service_ports([SVC, lonely], EP)) == body  # deterministic


def test_real_nft_accepts_the_table():
    body = ruleset(service_ports([SVC], EP))
    script = f"table ip {TABLE}\ndelete table ip {TABLE}\ntable ip {TABLE} {{\n{body}}}\n"
    r = subprocess.run(["nft", "-c", "-f", "-"], input=script, text=True, capture_output=True)
    assert r.returncode == 0, r.stderr


LOCAL_SLICE: dict[str, Any] = {
    "metadata": {"namespace": "default", "name": "web-l", "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "IPv4",
    "endpoints": [
        {"addresses": ["10.244.1.3"], "nodeName": "n1"},
        {"addresses": ["10.244.2.4"], "nodeName": "n2"},
    ],
    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
}


def web(**policies: Any) -> dict[str, Any]:
    spec: dict[str, Any] = dict(SVC["spec"])  # type: ignore[call-overload]
    return {**SVC, "spec": {**spec, "ports": spec["ports"][:1], **policies}}


def chain_of(body: str, name: str) -> str:
    return body.split(f"chain {name} {{")[1].split("}")[0]


def test_internal_traffic_policy_local_keeps_the_cluster_ip_to_this_nodes_endpoints() -> None:
    eps = slices_by_service([LOCAL_SLICE])
    (sp,) = service_ports([web(internalTrafficPolicy="Local")], eps, "n1")
    assert sp.endpoints == (("10.244.1.3", 8080),)
    # the external policy stays Cluster: the node port still balances over every endpoint
    assert sp.for_node_port == (("10.244.1.3", 8080), ("10.244.2.4", 8080))
    assert "goto svcx_0" in chain_of(ruleset([sp]), "nodeports")
    (cluster,) = service_ports([web()], eps, "n1")
    assert cluster.endpoints == (("10.244.1.3", 8080), ("10.244.2.4", 8080))
    # none here, some elsewhere: dropped, not rejected (kube-proxy)
    (none_here,) = service_ports([web(internalTrafficPolicy="Local")], eps, "n3")
    noendpoints = chain_of(ruleset([none_here]), "noendpoints")
    assert "ip daddr 10.96.0.12 tcp dport 80 drop" in noendpoints and "reject" not in noendpoints


def test_external_traffic_policy_local_keeps_the_client_address_and_this_nodes_endpoints() -> None:
    eps = slices_by_service([LOCAL_SLICE])
    (sp,) = service_ports([web(externalTrafficPolicy="Local")], eps, "n2")
    assert sp.endpoints == (("10.244.1.3", 8080), ("10.244.2.4", 8080))
    assert sp.for_node_port == (("10.244.2.4", 8080),)
    body = ruleset([sp])
    nodeports = chain_of(body, "nodeports")
    assert "tcp dport 30080 goto svcx_0" in nodeports and "mark set" not in nodeports  # not masqueraded
    assert "dnat to 10.244.2.4:8080" in chain_of(body, "epx_0_0")
    script = f"table ip {TABLE}\ndelete table ip {TABLE}\ntable ip {TABLE} {{\n{body}}}\n"
    r = subprocess.run(["nft", "-c", "-f", "-"], input=script, text=True, capture_output=True)
    assert r.returncode == 0, r.stderr


def test_client_ip_affinity_sends_a_client_back_and_carries_what_sets_held() -> None:
    eps = slices_by_service([LOCAL_SLICE])
    sticky_svc = web(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}})
    (sp,) = service_ports([sticky_svc], eps, "n1")
    assert sp.affinity == 60
    (default,) = service_ports([web(sessionAffinity="ClientIP")], eps, "n1")
    assert default.affinity == 10800
    first = affinity_set(sp, ("10.244.1.3", 8080))
    body = ruleset([sp], {first: {"10.1.2.3": 42}})
    svc = chain_of(body, "svc_0")
    assert svc.index(f"ip saddr @{first} goto ep_0_0") < svc.index("numgen random")
    assert f"chain ep_0_0 {{\n  update @{first} {{ ip saddr }}\n" in body
    assert "timeout 60s" in body and "elements = { 10.1.2.3 expires 42s }" in body
    assert affinity_set(sp, ("10.244.1.3", 8080)) == first != affinity_set(sp, ("10.244.2.4", 8080))
    assert "update @" not in ruleset(service_ports([web()], eps, "n1"))  # no affinity: no sets
    script = f"table ip {TABLE}\ndelete table ip {TABLE}\ntable ip {TABLE} {{\n{body}}}\n"
    r = subprocess.run(["nft", "-c", "-f", "-"], input=script, text=True, capture_output=True)
    assert r.returncode == 0, r.stderr


def test_external_ips_reach_the_service_as_traffic_from_outside() -> None:
    """spec.externalIPs: the service port on those addresses, masqueraded as a node port is, and
    kept to this node's endpoints (the client's address kept) under externalTrafficPolicy Local."""
    eps = slices_by_service([LOCAL_SLICE])
    spec = {"type": "ClusterIP", "externalIPs": ["192.0.2.9"]}
    (sp,) = service_ports([web(**spec)], eps, "n1")
    body = ruleset([sp])
    assert (
        'ip daddr 192.0.2.9 tcp dport 80 meta mark set mark or 0x4000 goto svc_0 comment "default/web:http"'
        in body
    )
    (local,) = service_ports([web(**spec, externalTrafficPolicy="Local")], eps, "n1")
    body = ruleset([local])
    assert 'ip daddr 192.0.2.9 tcp dport 80 goto svcx_0 comment "default/web:http"' in chain_of(
        body, "services"
    )
    assert "dnat to 10.244.1.3:8080" in chain_of(body, "epx_0_0")
    (none_here,) = service_ports([web(**spec, externalTrafficPolicy="Local")], eps, "n3")
    assert "ip daddr 192.0.2.9 tcp dport 80 drop" in chain_of(ruleset([none_here]), "noendpoints")
    script = f"table ip {TABLE}\ndelete table ip {TABLE}\ntable ip {TABLE} {{\n{body}}}\n"
    r = subprocess.run(["nft", "-c", "-f", "-"], input=script, text=True, capture_output=True)
    assert r.returncode == 0, r.stderr

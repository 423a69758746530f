"""The kube-dns Service and Endpoints: pure subsets from Nodes, then the controller against a real server."""

from __future__ import annotations

from typing import Any

import pytest

from controller.kubedns import PORTS, SERVING_ANNOTATION, dns_subsets
from tests.controller.cluster import Cluster, eventually, get_or_none
from tests.controller.conftest import cluster  # noqa: F401 - fixture


def node(name: str, ip: str, ready: bool = True, serving: bool = True) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "annotations": {SERVING_ANNOTATION: "true"} if serving else {},
        },
        "status": {
            "addresses": [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": ip}],
            "conditions": [{"type": "Ready", "status": "True" if ready else "Unknown"}],
        },
    }


def test_serving_nodes_back_the_service() -> None:
    subsets = dns_subsets(
        [
            node("b", "10.250.0.3"),
            node("a", "10.250.0.2"),
            node("c", "10.250.0.4", ready=False),
            node("hollow", "10.250.0.9", serving=False),
        ]
    )
    assert len(subsets) == 1
    assert [a["ip"] for a in subsets[0]["addresses"]] == ["10.250.0.2", "10.250.0.3"]
    assert subsets[0]["addresses"][0]["nodeName"] == "a"
    assert [a["ip"] for a in subsets[0]["notReadyAddresses"]] == ["10.250.0.4"]
    assert subsets[0]["ports"] == PORTS


def test_no_serving_node_no_subset() -> None:
    assert dns_subsets([node("a", "10.250.0.2", serving=False)]) == []


@pytest.mark.anyio
async def test_controller_makes_the_service_and_follows_the_nodes(cluster: Cluster) -> None:  # noqa: F811
    client = cluster.client
    cluster.start_controllers(controllers=("kubedns",))
    svc = await eventually(
        lambda: get_or_none(client, "services", "kube-dns", "kube-system"), what="kube-dns service"
    )
    assert svc["spec"]["clusterIP"] == "10.96.0.10" and "selector" not in svc["spec"]
    assert [(p["name"], p["port"], p["protocol"]) for p in svc["spec"]["ports"]] == [
        ("dns", 53, "UDP"),
        ("dns-tcp", 53, "TCP"),
    ]
    await cluster.add_node("n1", heartbeat=False)
    await client.patch(
        "nodes",
        "n1",
        {"status": {"addresses": [{"type": "InternalIP", "address": "10.250.0.7"}]}},
        content_type="application/merge-patch+json",
        subresource="status",
    )
    await client.patch(
        "nodes",
        "n1",
        {"metadata": {"annotations": {SERVING_ANNOTATION: "true"}}},
        content_type="application/merge-patch+json",
    )

    async def addresses() -> list[str]:
        ep = await get_or_none(client, "endpoints", "kube-dns", "kube-system")
        return [a["ip"] for s in (ep or {}).get("subsets") or [] for a in s.get("addresses") or []]

    assert await eventually(addresses, what="the node in kube-dns endpoints") == ["10.250.0.7"]
    await client.patch(
        "nodes",
        "n1",
        {"metadata": {"annotations": {SERVING_ANNOTATION: None}}},
        content_type="application/merge-patch+json",
    )
    await eventually(lambda: _empty(client), what="kube-dns endpoints emptied")
    # a user's change to the service is kept (EnsureExists), a deleted one comes back
    await client.delete("services", "kube-dns", "kube-system")
    assert await eventually(
        lambda: get_or_none(client, "services", "kube-dns", "kube-system"), what="kube-dns service recreated"
    )


async def _empty(client: Any) -> bool:
    ep = await get_or_none(client, "endpoints", "kube-dns", "kube-system")
    return ep is not None and not ep.get("subsets")


def test_endpoints_carry_the_hostname_of_pods_in_the_services_subdomain() -> None:
    from controller.endpoints import subsets

    service = {
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"name": "pg", "port": 5432}]},
    }

    def pod(name: str, ip: str, **spec: Any) -> dict[str, Any]:
        return {
            "metadata": {"name": name, "namespace": "default", "uid": name},
            "spec": {"containers": [], **spec},
            "status": {"podIP": ip, "conditions": [{"type": "Ready", "status": "True"}]},
        }

    got = subsets(
        service,
        [
            pod("db-0", "10.244.0.7", hostname="db-0", subdomain="db"),
            pod("other", "10.244.0.8", hostname="x", subdomain="elsewhere"),
            pod("plain", "10.244.0.9"),
        ],
    )
    hostnames = {a["ip"]: a.get("hostname") for s in got for a in s.get("addresses") or []}
    assert hostnames == {"10.244.0.7": "db-0", "10.244.0.8": None, "10.244.0.9": None}


def test_the_dns_address_is_the_tenth_of_the_service_range() -> None:
    from controller.kubedns import default_dns_ip

    assert default_dns_ip("10.96.0.0/16") == "10.96.0.10"
    assert default_dns_ip("10.96.0.0/12") == "10.96.0.10"
    assert default_dns_ip("172.20.0.0/16") == "172.20.0.10"

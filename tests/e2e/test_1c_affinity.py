"""sessionAffinity ClientIP on two real nodes: a client keeps reaching the same pod through the
cluster IP, across a rebuild of the proxy's table for another service; without affinity the same
client is spread over the pods."""

from __future__ import annotations

import json

from tests.e2e.conftest import Cluster
from tests.e2e.test_1_services import fetch_in_node, ready_endpoints
from tests.objects import manifest, service, web_rc
from tests.polling import wait_for


def test_client_ip_affinity_keeps_a_client_on_one_pod(cluster: Cluster) -> None:
    c = cluster
    c.kubectl(
        "apply",
        "-f",
        "-",
        input=manifest(
            web_rc("sticky", 3),
            service("sticky", {"port": 80, "targetPort": "http"}, sessionAffinity="ClientIP"),
        ),
    )
    try:
        wait_for(lambda: len(ready_endpoints(c, "sticky")) == 3, 90, what="3 sticky endpoints")
        ip = json.loads(c.kubectl("get", "svc", "sticky", "-o", "json").stdout)["spec"]["clusterIP"]
        first = wait_for(lambda: fetch_in_node(c, 0, f"http://{ip}/"), 30, what="a first answer")
        assert {fetch_in_node(c, 0, f"http://{ip}/") for _ in range(10)} == {first}
        # another service's change replaces the whole table: the client stays where it was
        c.kubectl("create", "service", "clusterip", "sticky-other", "--tcp=81:8080", real=True)
        wait_for(
            lambda: "sticky-other" in c.in_node(0, "nft", "list", "table", "ip", "kubelite-proxy").stdout,
            30,
            what="the proxy's table rebuilt",
        )
        assert {fetch_in_node(c, 0, f"http://{ip}/") for _ in range(10)} == {first}
        # affinity off: the same client meets more than one pod
        c.kubectl("patch", "svc", "sticky", "-p", '{"spec":{"sessionAffinity":"None"}}')
        seen: set[str] = set()

        def spread() -> bool:
            seen.add(fetch_in_node(c, 0, f"http://{ip}/"))
            return len(seen - {""}) > 1

        wait_for(spread, 30, what="answers from more than one pod")
    finally:
        c.kubectl("delete", "rc", "sticky", check=False)
        c.kubectl("delete", "svc", "sticky", "sticky-other", check=False)


def test_external_ips_reach_the_service(cluster: Cluster) -> None:
    """spec.externalIPs: the service port on an address no host has, reached from a node."""
    c = cluster
    external = "10.250.0.200"  # in the nodes' subnet, so a node routes it, and nobody holds it
    c.kubectl(
        "apply",
        "-f",
        "-",
        input=manifest(
            web_rc("outside", 1),
            service("outside", {"port": 80, "targetPort": "http"}, externalIPs=[external]),
        ),
    )
    try:
        wait_for(lambda: len(ready_endpoints(c, "outside")) == 1, 90, what="an endpoint")
        page = wait_for(
            lambda: fetch_in_node(c, 0, f"http://{external}/"), 30, what="an answer on the external IP"
        )
        assert page.startswith("outside-")
    finally:
        c.kubectl("delete", "rc", "outside", check=False)
        c.kubectl("delete", "svc", "outside", check=False)

"""NetworkPolicies enforced on two real nodes: pods on the same node and across nodes, ingress by
pod and namespace selectors on a named port, egress, and everything open again once the policies go.

The pods live in namespaces of their own, so a deny-all here shuts out no other test's traffic.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from typing import Any

from tests.e2e.conftest import Cluster
from tests.objects import WEB_IMAGE, manifest
from tests.polling import wait_for

NS, FRIENDS = "netpol", "netpol-friends"


def pod(name: str, ns: str, node: str, labels: dict[str, str], web: bool = False) -> dict[str, Any]:
    c: dict[str, Any] = {"name": "c", "image": WEB_IMAGE, "command": ["sleep", "3600"]}
    if web:
        c["command"] = ["sh", "-c", "hostname > /www/index.html; exec httpd -f -p 8080 -h /www"]
        c["ports"] = [{"containerPort": 8080, "name": "http"}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0, "containers": [c]},
    }


def policy(name: str, spec: dict[str, Any], ns: str = NS) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def namespace(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


DENY_ALL = policy("deny-all", {"podSelector": {}})
ALLOW_CLIENTS = policy(
    "web-from-clients",
    {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [
            {
                "from": [
                    {"podSelector": {"matchLabels": {"role": "client"}}},
                    {"namespaceSelector": {"matchLabels": {"team": "friends"}}},
                ],
                "ports": [{"port": "http"}],
            }
        ],
    },
)
NO_EGRESS = policy(
    "far-no-egress", {"podSelector": {"matchLabels": {"name": "far"}}, "policyTypes": ["Egress"]}
)


def reaches(c: Cluster, ns: str, pod: str, ip: str) -> bool:
    """Whether `pod` fetches web's page within 2 s. An exec that itself does not come back (seen
    once in CI under load: no output for 60 s) counts as not reached, and the waits ask again."""
    try:
        r = c.kubectl(
            "exec",
            "-n",
            ns,
            pod,
            "--",
            "timeout",
            "2",
            "wget",
            "-qO-",
            f"http://{ip}:8080/",
            check=False,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0 and r.stdout.strip() == "web"


def pod_ip(c: Cluster, ns: str, name: str) -> str:
    p = json.loads(c.kubectl("get", "pod", "-n", ns, name, "-o", "json").stdout)
    return str(p["status"].get("podIP") or "") if p["status"].get("phase") == "Running" else ""


def tables(c: Cluster, node: int) -> str:
    return c.in_node(node, "nft", "list", "tables").stdout


def test_policies_isolate_and_allow_then_release(cluster: Cluster) -> None:
    c = cluster
    c.kubectl(
        "apply",
        "-f",
        "-",
        input=manifest(
            namespace(NS, {}),
            namespace(FRIENDS, {"team": "friends"}),
            pod("web", NS, "node-0", {"app": "web"}, web=True),
            pod("near", NS, "node-0", {"role": "client", "name": "near"}),
            pod("far", NS, "node-1", {"role": "client", "name": "far"}),
            pod("stranger", NS, "node-1", {}),
            pod("friend", FRIENDS, "node-1", {}),
        ),
    )
    try:
        ip = wait_for(lambda: pod_ip(c, NS, "web"), 90, what="web running")
        for ns, name in ((NS, "near"), (NS, "far"), (NS, "stranger"), (FRIENDS, "friend")):
            wait_for(functools.partial(reaches, c, ns, name, ip), 60, what=f"{name} reaching web, no policy")
        assert "kubelite-netpol" not in tables(c, 0) + tables(c, 1)

        # deny all ingress: nobody gets in, on the same node or from the other
        c.kubectl("apply", "-f", "-", input=manifest(DENY_ALL))
        wait_for(lambda: not reaches(c, NS, "near", ip), 30, what="near shut out")
        assert not reaches(c, NS, "far", ip)
        assert not reaches(c, FRIENDS, "friend", ip)
        assert "kubelite-netpol" in tables(c, 0)

        # a second policy adds to the first: clients of this namespace and the friends' namespace
        c.kubectl("apply", "-f", "-", input=manifest(ALLOW_CLIENTS))
        wait_for(lambda: reaches(c, NS, "near", ip), 30, what="near allowed")
        assert wait_for(lambda: reaches(c, NS, "far", ip), 30, what="far allowed (other node)")
        assert wait_for(lambda: reaches(c, FRIENDS, "friend", ip), 30, what="friend allowed")
        assert not reaches(c, NS, "stranger", ip)
        # a pod's labels decide: the stranger becomes a client
        c.kubectl("label", "pod", "-n", NS, "stranger", "role=client")
        wait_for(lambda: reaches(c, NS, "stranger", ip), 30, what="relabelled stranger allowed")

        # egress isolation of the far pod: it can reach nobody, though web would let it in
        c.kubectl("apply", "-f", "-", input=manifest(NO_EGRESS))
        wait_for(lambda: not reaches(c, NS, "far", ip), 30, what="far's egress shut")
        assert reaches(c, NS, "near", ip)
        # but names still resolve: the cluster DNS is the nodes', whichever node the proxy picks
        api_ip = json.loads(c.kubectl("get", "svc", "kubernetes", "-o", "json").stdout)["spec"]["clusterIP"]
        for _ in range(4):
            r = c.kubectl(
                "exec", "-n", NS, "far", "--", "nslookup", "kubernetes.default.svc.cluster.local", check=False
            )
            assert re.search(rf"^Address:\s+{re.escape(api_ip)}$", r.stdout, re.M), r.stdout + r.stderr

        # policies gone: everything open again, and no table left on either node
        c.kubectl("delete", "networkpolicies", "-n", NS, "--all")
        wait_for(lambda: reaches(c, NS, "far", ip), 30, what="far reaching web again")
        wait_for(
            lambda: "kubelite-netpol" not in tables(c, 0) + tables(c, 1), 30, what="policy tables removed"
        )
    finally:
        c.kubectl("delete", "namespace", NS, FRIENDS, "--wait=false", check=False)

"""Cluster DNS on a real 2-node `kubelite up` cluster: pods resolve services by name through kube-dns.

A busybox client pod looks names up through the kube-dns ClusterIP (UDP through the service
proxy to a node's DNS server) and fetches from the web service by its short and full names;
a headless service returns one address per ready pod, and a pod with hostname and subdomain
gets its own name. Runs under the shared lock: `flock /tmp/kl-real.lock pytest tests/e2e/test_1b_dns.py`.
Here, not in tests/dns, so that it shares the session's one cluster with the other end-to-end tests.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import Cluster
from tests.polling import wait_for

NS = "dnstest"
SERVING = "dns.kubelite.io/serving"  # what an agent marks its Node with while its DNS server listens
MANIFEST = f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {NS}}}
---
apiVersion: v1
kind: ReplicationController
metadata: {{name: web, namespace: {NS}}}
spec:
  replicas: 2
  selector: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: kubelite/web:1.0
        ports: [{{containerPort: 8080, name: http}}]
        readinessProbe: {{httpGet: {{path: /, port: http}}, periodSeconds: 1}}
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: {NS}}}
spec:
  selector: {{app: web}}
  ports: [{{name: http, port: 80, targetPort: http}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web-headless, namespace: {NS}}}
spec:
  clusterIP: None
  selector: {{app: web}}
  ports: [{{name: http, port: 8080}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: client, namespace: {NS}, labels: {{app: client}}}}
spec:
  hostname: db-0
  subdomain: peers
  terminationGracePeriodSeconds: 0
  containers:
  - name: sh
    image: busybox:1.35
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Service
metadata: {{name: peers, namespace: {NS}}}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector: {{app: client}}
  ports: [{{name: none, port: 1}}]
"""


def _json(c: Cluster, *args: str, ns: str = NS) -> Any:
    r = c.kubectl("-n", ns, *args, "-o", "json", check=False)
    return json.loads(r.stdout) if r.returncode == 0 else {}


def _ready_web_ips(c: Cluster) -> set[str]:
    ep = _json(c, "get", "endpoints", "web")
    return {a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses") or []}


def _exec(c: Cluster, *cmd: str, timeout: float = 30) -> str:
    r = c.kubectl("-n", NS, "exec", "client", "--", *cmd, check=False, timeout=timeout)
    return r.stdout + r.stderr


def _until(c: Cluster, cmd: list[str], ok: Callable[[str], bool], what: str) -> str:
    """The output of `cmd` in the client pod once `ok` accepts it (DNS and proxies follow changes)."""
    outputs: list[str] = []

    def attempt() -> bool:
        outputs.append(_exec(c, *cmd))
        return ok(outputs[-1])

    wait_for(attempt, 30, what)
    return outputs[-1]


def test_pods_resolve_services_through_kube_dns(cluster: Cluster) -> None:
    c = cluster
    svc = wait_for(
        lambda: _json(c, "get", "service", "kube-dns", ns="kube-system"), 30, "the kube-dns service"
    )
    assert svc["spec"]["clusterIP"] == "10.96.0.10"

    def serving() -> set[str]:
        ep = _json(c, "get", "endpoints", "kube-dns", ns="kube-system")
        return {a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses") or []}

    def serving_nodes(count: int) -> Callable[[], set[str]]:
        def check() -> set[str]:
            ips = serving()
            return ips if len(ips) == count else set()

        return check

    dns_eps = wait_for(serving_nodes(2), 30, "both nodes serving DNS")

    c.kubectl("apply", "-f", "-", input=MANIFEST)
    try:
        wait_for(lambda: len(_ready_web_ips(c)) == 2, 90, "two ready web pods")
        wait_for(
            lambda: _json(c, "get", "pod", "client").get("status", {}).get("phase") == "Running",
            90,
            "the client pod running",
        )

        resolv = _exec(c, "cat", "/etc/resolv.conf")
        assert "nameserver 10.96.0.10\n" in resolv, resolv
        assert f"search {NS}.svc.cluster.local svc.cluster.local cluster.local" in resolv, resolv
        assert "options ndots:5" in resolv, resolv

        web_ip = _json(c, "get", "service", "web")["spec"]["clusterIP"]
        looked_up = _until(c, ["nslookup", "web"], lambda o: web_ip in o, "nslookup web")
        assert f"web.{NS}.svc.cluster.local" in looked_up

        for url in ("http://web/", f"http://web.{NS}.svc.cluster.local/", f"http://web.{NS}/"):
            page = _until(c, ["timeout", "5", "wget", "-qO-", url], lambda o: "<html>" in o, f"wget {url}")
            assert "kubelite web" in page

        # headless: one A per ready pod, and not the ClusterIP of the other service
        ips = _ready_web_ips(c)
        out = _until(c, ["nslookup", "web-headless"], lambda o: all(ip in o for ip in ips), "headless answer")
        assert web_ip not in out

        # the pod's own name: hostname + subdomain, in its /etc/hosts and in DNS
        client_ip = _json(c, "get", "pod", "client")["status"]["podIP"]
        hosts = _exec(c, "cat", "/etc/hosts")
        assert f"{client_ip}\tdb-0.peers.{NS}.svc.cluster.local\tdb-0" in hosts, hosts
        assert _exec(c, "hostname").strip() == "db-0"
        own = _until(
            c,
            ["nslookup", f"db-0.peers.{NS}.svc.cluster.local"],
            lambda o: client_ip in o,
            "the pod's own DNS name",
        )
        assert f"db-0.peers.{NS}.svc.cluster.local" in own

        # SRV and PTR, asked from node 0 straight at a node's DNS server
        node0 = sorted(dns_eps)[0]
        srv = c.in_node(
            0, "busybox", "nslookup", "-type=SRV", f"_http._tcp.web.{NS}.svc.cluster.local", node0
        )
        assert f"web.{NS}.svc.cluster.local" in srv.stdout and " 80 " in srv.stdout, srv.stdout + srv.stderr
        ptr = c.in_node(0, "busybox", "nslookup", web_ip, node0)
        assert f"web.{NS}.svc.cluster.local" in ptr.stdout, ptr.stdout + ptr.stderr

        # the kube-dns ClusterIP over TCP (dns-tcp) and UDP (dns) from a node, asked with dnspython
        probe = (
            "import dns.message, dns.query; q = dns.message.make_query('web.dnstest.svc.cluster.local.', 'A'); "
            "print(dns.query.tcp(q, '10.96.0.10', timeout=5).answer[0][0], "
            "dns.query.udp(q, '10.96.0.10', timeout=5).answer[0][0])"
        )
        both = c.in_node(1, sys.executable, "-c", probe, timeout=30)
        assert both.stdout.split() == [web_ip, web_ip], both.stdout + both.stderr

        # names outside the cluster are forwarded and fail cleanly (no upstream reachable here)
        bad = _exec(c, "nslookup", "nothing.invalid.")
        assert "can't find" in bad or "NXDOMAIN" in bad or "SERVFAIL" in bad, bad

        # a node that stops serving leaves kube-dns, and names still resolve through the other one
        c.kubectl("annotate", "node", "node-0", f"{SERVING}-", real=True)
        left = wait_for(serving_nodes(1), 30, "one DNS server left")
        for _ in range(5):
            assert web_ip in _exec(c, "nslookup", "web"), "a lookup failed with one DNS server left"
        assert len(left) == 1
    finally:
        c.kubectl("annotate", "node", "node-0", f"{SERVING}=true", "--overwrite", real=True, check=False)
        c.kubectl("delete", "namespace", NS, "--wait=false", check=False)

"""metrics-server's scrape, from inside a pod on a real cluster: a pod running as a ServiceAccount
bound to metrics-server's ClusterRole (`nodes/metrics get`) reads its node kubelet's
`/metrics/resource` with its projected token and finds its own container's usage; another
ServiceAccount's token, without the binding, gets the kubelet's 403; no token, 401.

The requests are made by Python's TLS client in a python:3 pod (busybox's built-in TLS client sends
no signature_algorithms extension, which the kubelet's OpenSSL refuses), to the node's InternalIP
and kubelet port as the Node object gives them, verifying the kubelet's certificate as
metrics-server's unchanged components.yaml does (no `--kubelet-insecure-tls`): against the cluster
CA of the pod's ServiceAccount mount, for the IP dialled. The kubelets' serving certificates come
from that CA through CertificateSigningRequests the controller manager approved: checked from the
host for every node too.
"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Iterator

import pytest
from cryptography import x509

from tests.e2e.conftest import Cluster
from tests.e2e.manifests import pod
from tests.polling import wait_for

RBAC = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: scraper, namespace: default}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: no-metrics, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-metrics-reader}
rules:
- apiGroups: [""]
  resources: [nodes/metrics]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-metrics-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-metrics-reader}
subjects:
- {kind: ServiceAccount, name: scraper, namespace: default}
"""
# GET URL with TOKEN ("-" none, "@" the pod's own mounted token): prints the status, then the body
FETCH = """
import ssl, sys, urllib.error, urllib.request
url, token = sys.argv[1], sys.argv[2]
if token == "@":
    token = open("/var/run/secrets/kubernetes.io/serviceaccount/token").read()
req = urllib.request.Request(url)
if token != "-":
    req.add_header("Authorization", "Bearer " + token)
ctx = ssl.create_default_context(cafile="/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")
try:
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        print(r.status); print(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); print(e.read().decode())
"""


@pytest.fixture(scope="module")
def scraper(cluster: Cluster) -> Iterator[str]:
    """The running scraper pod; yields its node kubelet's /metrics/resource URL."""
    c = cluster
    c.kubectl("apply", "-f", "-", input=RBAC, real=True)
    spec = pod("scraper", [{"name": "app", "image": "python:3", "command": ["sleep", "3600"]}])
    spec["spec"]["serviceAccountName"] = "scraper"
    c.kubectl("apply", "-f", "-", input=json.dumps(spec), real=True)
    try:

        def running() -> dict[str, str] | None:
            r = c.kubectl("get", "pod", "scraper", "-o", "json", check=False, real=True)
            p = json.loads(r.stdout) if r.returncode == 0 else {}
            return p["spec"] if (p.get("status") or {}).get("phase") == "Running" else None

        try:
            spec = wait_for(running, 120, what="scraper Running")
        except AssertionError:
            raise AssertionError(
                c.kubectl("describe", "pod", "scraper", real=True, check=False).stdout
            ) from None
        node = json.loads(c.kubectl("get", "node", spec["nodeName"], "-o", "json", real=True).stdout)
        ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
        port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
        yield f"https://{ip}:{port}/metrics/resource"
    finally:
        c.kubectl("delete", "pod", "scraper", "--wait=false", check=False, real=True)
        c.kubectl("delete", "-f", "-", "--wait=false", input=RBAC, check=False, real=True)


def fetch(c: Cluster, url: str, token: str) -> tuple[int, str]:
    out = c.kubectl("exec", "scraper", "--", "python3", "-c", FETCH, url, token, real=True).stdout
    status, _, body = out.partition("\n")
    return int(status), body


def test_bound_service_account_reads_its_nodes_resource_metrics(cluster: Cluster, scraper: str) -> None:
    ours = 'container_cpu_usage_seconds_total{container="app",namespace="default",pod="scraper"} '

    def scraped() -> str | None:
        status, body = fetch(cluster, scraper, "@")
        assert status == 200, body
        return body if ours in body else None

    body = wait_for(
        scraped, 60, what="the scraper's own container in its node's resource metrics", interval=1
    )
    names = {line.split("{")[0].split(" ")[0] for line in body.splitlines() if line and line[0] != "#"}
    assert {
        "node_cpu_usage_seconds_total",
        "node_memory_working_set_bytes",
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "container_start_time_seconds",
        "pod_cpu_usage_seconds_total",
        "pod_memory_working_set_bytes",
        "resource_scrape_error",
    } <= names
    sample = next(line for line in body.splitlines() if line.startswith(ours))
    assert float(sample.split(" ")[1]) > 0 and len(sample.split(" ")) == 3  # value and timestamp


def test_unbound_service_account_is_forbidden_and_no_token_unauthorized(
    cluster: Cluster, scraper: str
) -> None:
    token = cluster.kubectl("create", "token", "no-metrics", real=True).stdout.strip()
    assert fetch(cluster, scraper, token) == (
        403,
        "Forbidden (user=system:serviceaccount:default:no-metrics, verb=get, resource=nodes, "
        "subresource=metrics)\n",
    )
    assert fetch(cluster, scraper, "-") == (401, "Unauthorized\n")


def test_every_kubelet_serves_a_certificate_of_the_cluster_ca(cluster: Cluster) -> None:
    """Each node's kubelet, dialled at its InternalIP with only the cluster CA trusted (the IP
    checked against the certificate), presents `system:node:<name>` naming its name and IP; its
    request was approved by the controller manager (reason AutoApproved)."""
    from api import x509 as certs

    ca = cluster.data_dir / "server" / "tls" / "ca.crt"
    nodes = json.loads(cluster.kubectl("get", "nodes", "-o", "json", real=True).stdout)["items"]
    csrs = json.loads(cluster.kubectl("get", "csr", "-o", "json", real=True).stdout)["items"]
    assert len(nodes) == 2
    for node in nodes:
        name = node["metadata"]["name"]
        ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
        port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
        ctx = ssl.create_default_context(cafile=str(ca))
        with (
            socket.create_connection((ip, port), timeout=10) as raw,
            ctx.wrap_socket(raw, server_hostname=ip) as s,
        ):
            der = s.getpeercert(binary_form=True)
        assert der is not None
        cert = x509.load_der_x509_certificate(der)
        assert cert.subject.rfc4514_string() == f"CN=system:node:{name},O=system:nodes"
        dns, ips = certs.names_of(cert)
        assert name in dns and ip in ips
        mine = [c for c in csrs if c["spec"]["username"] == f"system:node:{name}"]
        assert mine and all(c["spec"]["signerName"] == "kubernetes.io/kubelet-serving" for c in mine)
        approved = [c for m in mine for c in m["status"].get("conditions") or [] if c["type"] == "Approved"]
        assert approved and approved[0]["reason"] == "AutoApproved", mine

"""The kubelet's HTTPS server authenticating and authorizing its callers through a real API server,
as kube's webhook modes do: a `kubelite server` subprocess, and a KubeletServer in a thread (the
host-process runtime double of test_server.py, one "container" a real sleeping process so the
stats sampler reads its cgroups) whose API client is a node credential, as the agent's is.

The three outcomes for metrics-server's scrape of `/metrics/resource`: a ServiceAccount bound to a
ClusterRole with `nodes/metrics get` (metrics-server's own rule) gets kube's resource metrics with
its token; one without the binding 403 in the kubelet's words; no credential, or a token the API
server does not know, 401. Then the subresource each path is authorized as (`/stats/summary`
stats, `/pods` proxy), client certificates of the cluster CA other than the API server's (CN the
user, O the groups), and the API server's own certificate, still served without a review.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import x509
from apiserver import certs
from apiserver.kubeletproxy import client_ssl_context
from tests.apiserver.conftest import Server, start_server
from tests.kubelet.test_server import HostRuntime, Kubelet, start_kubelet
from tests.polling import wait_for

NODE = "authn-node"
METRICS_READER = {  # metrics-server's ClusterRole, as its components.yaml has it
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRole",
    "metadata": {"name": "system:metrics-server"},
    "rules": [
        {"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["get", "list", "watch"]},
    ],
}
NODE_READER = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRole",
    "metadata": {"name": "node-reader"},
    "rules": [{"apiGroups": [""], "resources": ["nodes/proxy", "nodes/stats"], "verbs": ["get"]}],
}


@dataclass
class Setup:
    server: Server
    api: httpx.Client
    kubelet: Kubelet
    tmp: Path

    def get(self, path: str, token: str | None = None, verify: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(self.kubelet.url + path, headers=headers, verify=verify or _no_cert(), timeout=10)

    def token(self, account: str) -> str:
        r = self.api.post(f"/api/v1/namespaces/default/serviceaccounts/{account}/token", json={"spec": {}})
        assert r.status_code == 201, r.text
        return str(r.json()["status"]["token"])


def _no_cert() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx


def user_cert(tmp: Path, ca: certs.TLSFiles, cn: str, groups: tuple[str, ...] = ()) -> ssl.SSLContext:
    """A client certificate of the cluster CA for `cn` in `groups`, as a TLS client context."""
    key = x509.new_key()
    cert = x509.sign(
        x509.builder(x509.name(cn, list(groups)), x509.load_cert(ca.ca_cert).subject, key, 1).add_extension(
            x509.x509.ExtendedKeyUsage([x509.CLIENT_AUTH]), critical=False
        ),
        x509.load_key(ca.ca_key),
    )
    cert_path, key_path = tmp / f"{cn}.crt", tmp / f"{cn}.key"
    cert_path.write_bytes(x509.cert_pem(cert))
    x509.write_private(key_path, x509.key_pem(key))
    return client_ssl_context(cert_path, key_path, ca.ca_cert)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    from api.aclient import AsyncClient
    from kubelet.join import join_config

    tmp = tmp_path_factory.mktemp("kubelet-auth")
    srv = start_server(tmp / "server")
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        tls = srv.data_dir / "tls"
        ca = certs.TLSFiles(tls / "ca.crt", tls / "ca.key", tls / "server.crt", tls / "server.key")
        node_token = (srv.data_dir / "node-token").read_text().strip()
        client = AsyncClient(join_config(srv.url, node_token, NODE, name_header=True))
        runtime = HostRuntime(tmp / "logs")
        c = runtime.add("default", "web", "app")
        c.pid, c.started_at = sleeper.pid, time.time() - 30
        pods = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"}}]
        k = start_kubelet(
            tmp, runtime, ca, node_name=NODE, api_client=client, pods=lambda: pods, stats_interval=0.2
        )
        with srv.client() as api:
            for role in (METRICS_READER, NODE_READER):
                r = api.post("/apis/rbac.authorization.k8s.io/v1/clusterroles", json=role)
                assert r.status_code == 201, r.text
            for account in ("metrics-server", "nobody"):
                r = api.post(
                    "/api/v1/namespaces/default/serviceaccounts", json={"metadata": {"name": account}}
                )
                assert r.status_code == 201, r.text
            _bind(api, "metrics-server", METRICS_READER, {"kind": "ServiceAccount", "name": "metrics-server"})
            _bind(api, "ops", NODE_READER, {"kind": "Group", "name": "ops"})
            yield Setup(srv, api, k, tmp)
        k.stop()
        asyncio.run(client.aclose())
    finally:
        sleeper.kill()
        sleeper.wait()
        srv.stop()


def _bind(api: httpx.Client, name: str, role: dict[str, Any], subject: dict[str, str]) -> None:
    if subject["kind"] == "ServiceAccount":
        subject = {**subject, "namespace": "default"}
    else:
        subject = {**subject, "apiGroup": "rbac.authorization.k8s.io"}
    binding = {
        "metadata": {"name": name},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": role["metadata"]["name"],
        },
        "subjects": [subject],
    }
    r = api.post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json=binding)
    assert r.status_code == 201, r.text


def _samples(text: str) -> dict[str, list[str]]:
    """metric name -> its sample lines."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            out.setdefault(line.split("{")[0].split(" ")[0], []).append(line)
    return out


def test_bound_service_account_reads_the_resource_metrics(setup: Setup) -> None:
    token = setup.token("metrics-server")

    def scraped() -> dict[str, list[str]]:
        r = setup.get("/metrics/resource", token)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        return _samples(r.text)

    wait_for(lambda: "container_cpu_usage_seconds_total" in scraped(), 20, what="container samples")
    found = scraped()
    labels = '{container="app",namespace="default",pod="web"}'
    now_ms = time.time() * 1000
    for name in ("container_cpu_usage_seconds_total", "container_memory_working_set_bytes"):
        (line,) = found[name]
        assert line.startswith(name + labels + " ")
        _, value, stamp = line.split(" ")
        assert float(value) >= 0 and abs(int(stamp) - now_ms) < 60_000
    (start,) = found["container_start_time_seconds"]
    assert start.startswith("container_start_time_seconds" + labels) and len(start.split(" ")) == 2
    assert abs(float(start.split(" ")[1]) - (time.time() - 30)) < 60
    for name in ("node_cpu_usage_seconds_total", "node_memory_working_set_bytes"):
        (line,) = found[name]
        assert float(line.split(" ")[1]) > 0 and len(line.split(" ")) == 3
    assert [line.split(" ")[0] for line in found["pod_cpu_usage_seconds_total"]] == [
        'pod_cpu_usage_seconds_total{namespace="default",pod="web"}'
    ]
    assert found["resource_scrape_error"] == ["resource_scrape_error 0"]
    # the kubelet's own metrics are nodes/metrics too
    assert setup.get("/metrics", token).status_code == 200


def test_unbound_service_account_is_forbidden(setup: Setup) -> None:
    r = setup.get("/metrics/resource", setup.token("nobody"))
    assert r.status_code == 403
    assert r.text == (
        "Forbidden (user=system:serviceaccount:default:nobody, verb=get, resource=nodes, subresource=metrics)"
    )


def test_no_credential_or_an_unknown_token_is_unauthorized(setup: Setup) -> None:
    for token in (None, "not-a-token", setup.token("nobody")[:-4] + "AAAA"):
        r = setup.get("/metrics/resource", token)
        assert (r.status_code, r.text) == (401, "Unauthorized")


def test_each_path_is_its_own_subresource(setup: Setup) -> None:
    token = setup.token("metrics-server")  # nodes/metrics only
    user = "system:serviceaccount:default:metrics-server"
    for path, sub in (("/stats/summary", "stats"), ("/pods", "proxy"), ("/healthz", "proxy")):
        r = setup.get(path, token)
        assert (r.status_code, r.text) == (
            403,
            f"Forbidden (user={user}, verb=get, resource=nodes, subresource={sub})",
        )
    # POST is create, which metrics-server's role does not grant
    r = httpx.post(
        setup.kubelet.url + "/metrics/resource",
        headers={"Authorization": f"Bearer {token}"},
        verify=_no_cert(),
        timeout=10,
    )
    assert r.status_code == 403 and "verb=create" in r.text


def test_client_certificates_of_the_cluster_ca(setup: Setup) -> None:
    ca = setup.kubelet.ca
    ops = user_cert(setup.tmp, ca, "bob", ("ops",))  # the group is bound to nodes/proxy and nodes/stats
    r = setup.get("/pods", verify=ops)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json()["kind"] == "PodList" and [p["metadata"]["name"] for p in r.json()["items"]] == ["web"]
    summary = setup.get("/stats/summary", verify=ops)
    assert summary.status_code == 200 and json.loads(summary.text)["node"]["nodeName"] == NODE
    r = setup.get("/metrics/resource", verify=ops)
    assert (r.status_code, r.text) == (
        403,
        "Forbidden (user=bob, verb=get, resource=nodes, subresource=metrics)",
    )
    alice = user_cert(setup.tmp, ca, "alice")
    assert setup.get("/pods", verify=alice).text == (
        "Forbidden (user=alice, verb=get, resource=nodes, subresource=proxy)"
    )
    # a certificate wins over a token, as kube's authenticators are ordered
    r = setup.get("/metrics/resource", setup.token("metrics-server"), verify=alice)
    assert r.status_code == 403 and "user=alice" in r.text
    # the API server's own certificate: served, no review asked
    r = setup.get("/metrics/resource", verify=setup.kubelet.client_ssl)
    assert r.status_code == 200 and "resource_scrape_error 0" in r.text


def test_token_reviews_of_service_account_tokens(setup: Setup) -> None:
    """What the kubelet asks: the API server's TokenReview knows its service-account tokens."""
    path = "/apis/authentication.k8s.io/v1/tokenreviews"
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview"}
    r = setup.api.post(path, json={**review, "spec": {"token": setup.token("nobody")}})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == {
        "authenticated": True,
        "user": {
            "username": "system:serviceaccount:default:nobody",
            "groups": ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"],
        },
    }
    r = setup.api.post(path, json={**review, "spec": {"token": "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"}})
    assert r.json()["status"] == {"authenticated": False, "error": "invalid bearer token"}

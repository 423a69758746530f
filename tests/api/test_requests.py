"""Requests are built in one place for both clients: paths, queries, bodies, content types."""

import http.server
import threading

import pytest

from api import jsonutil
from api import requests as rq
from api.client import Client, ConnectionFailed
from api.config import ClientConfig, ConfigError, from_kubeconfig
from api.errors import ApiError


def test_paths_for_core_group_and_leases():
    assert rq.get("po", "x", "default").path == "/api/v1/namespaces/default/pods/x"
    assert rq.get("nodes", "n1", "ignored").path == "/api/v1/nodes/n1"
    assert rq.list_("pods").path == "/api/v1/pods"
    assert (
        rq.get("leases", "n1", "kube-node-lease").path
        == "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1"
    )
    assert (
        rq.patch("rc", "web", {"spec": {"replicas": 3}}, namespace="default", subresource="scale").path
        == "/api/v1/namespaces/default/replicationcontrollers/web/scale"
    )


def test_watch_query():
    r = rq.watch(
        "pods", "default", resource_version="42", field_selector="spec.nodeName=n1", timeout_seconds=30
    )
    assert r.stream
    assert r.query == {
        "watch": "true",
        "resourceVersion": "42",
        "allowWatchBookmarks": "true",
        "timeoutSeconds": "30",
        "fieldSelector": "spec.nodeName=n1",
    }
    assert r.target.startswith("/api/v1/namespaces/default/pods?watch=true&")


def test_create_takes_namespace_from_object_and_delete_sends_options():
    r = rq.create("pods", {"metadata": {"name": "x", "namespace": "ns1"}}, field_manager="kubectl-create")
    assert r.path == "/api/v1/namespaces/ns1/pods" and r.query == {"fieldManager": "kubectl-create"}
    d = rq.delete("pods", "x", "ns1", propagation_policy="Foreground", grace_period_seconds=0)
    assert d.body is not None
    assert jsonutil.loads(d.body) == {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "propagationPolicy": "Foreground",
        "gracePeriodSeconds": 0,
    }


def test_unknown_resource():
    with pytest.raises(ValueError):
        rq.get("widgets", "x")


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith("/missing"):
            body = jsonutil.dumps(ApiError(404, "NotFound", 'pods "missing" not found').status)
            self.send_response(404)
        else:
            body = jsonutil.dumps({"kind": "Pod", "auth": self.headers.get("Authorization")})
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_sync_client_round_trip_and_errors(server):
    with Client(ClientConfig(server=server, token="t0k")) as c:
        assert c.get("pods", "x", "default") == {"kind": "Pod", "auth": "Bearer t0k"}
        assert c.get("pods", "y", "default")["kind"] == "Pod"  # same kept-alive connection
        with pytest.raises(ApiError) as e:
            c.get("pods", "missing", "default")
        assert (e.value.code, e.value.reason) == (404, "NotFound")


def test_sync_client_connection_refused_is_one_clear_error():
    with pytest.raises(ConnectionFailed, match="Unable to connect to the server"):
        Client(ClientConfig(server="http://127.0.0.1:9")).get("pods", "x", "default")


def test_kubeconfig_merge_first_wins(tmp_path, monkeypatch):
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.write_text("""
current-context: one
clusters: [{name: c1, cluster: {server: "https://a:6443", insecure-skip-tls-verify: true}}]
users: [{name: u1, user: {token: tokA}}]
contexts: [{name: one, context: {cluster: c1, user: u1, namespace: team}}]
""")
    b.write_text("""
current-context: two
clusters: [{name: c1, cluster: {server: "https://b:6443"}}, {name: c2, cluster: {server: "https://c:6443"}}]
users: [{name: u2, user: {token: tokB}}]
contexts: [{name: two, context: {cluster: c2, user: u2}}]
""")
    monkeypatch.setenv("KUBECONFIG", f"{a}:{b}")
    cfg = from_kubeconfig()
    assert (cfg.server, cfg.token, cfg.namespace, cfg.insecure) == ("https://a:6443", "tokA", "team", True)
    cfg2 = from_kubeconfig(context="two")
    assert (cfg2.server, cfg2.token, cfg2.namespace) == ("https://c:6443", "tokB", "default")
    with pytest.raises(ConfigError):
        from_kubeconfig(context="nope")

"""nodes/proxy and WebSockets through the proxy subresources, against a real `kubelite server`.

The kubelet is the real HTTPS server (`kubelet.server`, with the runtime double of
tests/kubelet/test_server.py) on a global unicast address of this host, checking the API
server's kubelet client certificate; a port in the node's name reaches the plain HTTP upstream
of tests/apiserver/proxy_upstream.py on that address instead. WebSockets are relayed to that
module's echo server through pods/proxy and services/proxy.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from apiserver import certs
from tests.apiserver.conftest import Server
from tests.apiserver.proxy_upstream import Upstreams, proxy_ip, upstreams
from tests.apiserver.test_log_exec_proxy import make_node
from tests.apiserver.test_proxy_subresources import make_pod, make_service, status
from tests.kubelet.test_server import HostRuntime, Kubelet, start_kubelet

__all__ = ["proxy_ip"]  # the fixture, used by this module's own


@pytest.fixture(scope="module")
def up(proxy_ip: str) -> Iterator[Upstreams]:
    with upstreams(proxy_ip) as u:
        yield u


@pytest.fixture(scope="module")
def kubelet(server: Server, tmp_path_factory: pytest.TempPathFactory, proxy_ip: str) -> Iterator[Kubelet]:
    tmp = tmp_path_factory.mktemp("proxied-node-kubelet")
    tls = server.data_dir / "tls"
    ca = certs.TLSFiles(tls / "ca.crt", tls / "ca.key", tls / "server.crt", tls / "server.key")
    k = start_kubelet(tmp, HostRuntime(tmp / "logs"), ca, host=proxy_ip)
    yield k
    k.stop()


def test_nodes_proxy(http: httpx.Client, kubelet: Kubelet, up: Upstreams) -> None:
    make_node(http, "proxy-node", kubelet.port, up.ip)
    base = "/api/v1/nodes/proxy-node/proxy"
    r = http.get(f"{base}/healthz")  # the kubelet, with the API server's client certificate
    assert (r.status_code, r.text) == (200, "ok")
    assert http.get(f"/api/v1/nodes/proxy-node:{kubelet.port}/proxy/healthz").text == "ok"
    r = http.get(f"{base}/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    r = http.get(f"{base}/no-such-path")  # the kubelet's own answer, relayed as it is
    assert (r.status_code, r.text) == (404, "404 page not found")
    r = http.post(f"/api/v1/nodes/proxy-node:{up.port}/proxy/other", content=b"to another port")
    echo = r.json()  # plain HTTP to the node's address on that port, no client certificate
    assert (echo["method"], echo["path"], echo["body"]) == ("POST", "/other", "to another port")
    r = http.get(f"/api/v1/nodes/https:proxy-node:{up.port}/proxy/")  # TLS to a plain HTTP server
    assert r.status_code == 503 and r.json()["message"].startswith("error trying to reach service: ")


def test_nodes_proxy_errors(http: httpx.Client, kubelet: Kubelet) -> None:
    status(http.get("/api/v1/nodes/nope/proxy/healthz"), 404, "NotFound", 'nodes "nope" not found')
    make_node(http, "loopback-node", kubelet.port)
    status(http.get("/api/v1/nodes/loopback-node/proxy/healthz"), 400, "BadRequest", "address not allowed")
    status(http.get("/api/v1/nodes/a:b:c:d/proxy/"), 400, "BadRequest", 'invalid node request "a:b:c:d"')


def _ws(server: Server, path: str) -> object:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    headers = {"Authorization": f"Bearer {server.token}", "X-Custom": "kept"}
    url = f"wss://127.0.0.1:{server.port}{path}"
    return connect(url, ssl=context, additional_headers=headers, subprotocols=["echo.v1"])  # type: ignore[list-item]


def test_websocket_through_proxy(server: Server, http: httpx.Client, up: Upstreams, ns: str) -> None:
    make_pod(http, ns, "ws", up.ip)
    live = {"ip": up.ip, "targetRef": {"kind": "Pod", "namespace": ns, "name": "ws"}}
    make_service(http, ns, "ws", up.ws_port, [live])
    for path in (
        f"/api/v1/namespaces/{ns}/pods/ws:{up.ws_port}/proxy/chat",
        f"/api/v1/namespaces/{ns}/services/ws:http/proxy/chat",
    ):
        with _ws(server, path + "?room=1") as conn:  # type: ignore[attr-defined]
            assert conn.subprotocol == "echo.v1"
            first = json.loads(conn.recv(timeout=10))
            assert first["path"] == "/chat?room=1" and first["custom"] == "kept"
            assert not first["authorization"] and "127.0.0.1" in first["xff"]
            conn.send(b"\x00\x01binary")
            assert conn.recv(timeout=10) == b"\x00\x01binary"
            conn.send("text")
            assert conn.recv(timeout=10) == "text"
    with pytest.raises(InvalidStatus) as refused:  # the upstream is no WebSocket server: its answer
        _ws(server, f"/api/v1/namespaces/{ns}/pods/ws:{up.port}/proxy/echo")
    assert refused.value.response.status_code == 200 and b'"path": "/echo"' in (
        refused.value.response.body or b""
    )
    with pytest.raises(InvalidStatus) as missing:
        _ws(server, f"/api/v1/namespaces/{ns}/pods/nope:80/proxy/")
    assert missing.value.response.status_code == 404

"""The proxy subresources on a real cluster, through the real `kubectl proxy` (1.33): the page a pod of
the demo web image serves, reached at the URLs `kubectl cluster-info` prints for services
(`services/NAME:PORT/proxy/`) and at `pods/NAME:8080/proxy/`, a POST whose body reaches the pod
(busybox httpd runs a CGI script that echoes it), and `nodes/NODE/proxy/healthz` answered by the
node's kubelet. The API server dials the pod IPs directly (the host routes every node's pod CIDR).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial

import httpx
import pytest

from tests.apiserver.conftest import free_port
from tests.e2e.conftest import REAL_KUBECTL, Cluster
from tests.e2e.test_portforward import Forward
from tests.objects import manifest, service, web_rc
from tests.polling import wait_for

# a CGI script for busybox httpd: prints the method and query, then the request body
ECHO_CGI = (
    "mkdir -p /www/cgi-bin; "
    "printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho method=$REQUEST_METHOD query=$QUERY_STRING\\ncat\\n'"
    " > /www/cgi-bin/echo; chmod +x /www/cgi-bin/echo"
)
APP = manifest(
    web_rc("px-web", 1, serve=f"hostname > /www/index.html; {ECHO_CGI}", grace=1),
    service("px-web", {"name": "http", "port": 80, "targetPort": "http"}),
)


@pytest.fixture(scope="module")
def web(cluster: Cluster) -> Iterator[dict[str, str]]:
    """The running, ready px-web pod: its name and node."""
    cluster.kubectl("apply", "-f", "-", input=APP)

    def ready_pod() -> dict[str, str] | None:
        items = json.loads(cluster.kubectl("get", "pods", "-l", "app=px-web", "-o", "json").stdout)["items"]
        for p in items:
            statuses = p["status"].get("containerStatuses") or []
            if p["status"].get("phase") == "Running" and statuses and all(cs.get("ready") for cs in statuses):
                return {"name": p["metadata"]["name"], "node": p["spec"]["nodeName"]}
        return None

    try:
        yield wait_for(ready_pod, 90, "a ready px-web pod")
    finally:
        cluster.kubectl("delete", "rc/px-web", "svc/px-web", "--wait=false", check=False)


@pytest.fixture(scope="module")
def proxy(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a running `kubectl proxy` (stopped after)."""
    port = free_port()
    cmd = [REAL_KUBECTL, "--cache-dir", str(cluster.data_dir / "kubectl-cache"), "proxy", f"--port={port}"]
    proc = Forward(cmd, cluster.env(), tmp_path_factory.mktemp("kubectl-proxy") / "proxy.log")
    try:
        proc.wait_listening(f"Starting to serve on 127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


def _answer(http: httpx.Client, method: str, path: str, body: bytes | None = None) -> str | None:
    """The body of a 200 answer, else None (the Endpoints may not list the pod yet)."""
    r = http.request(method, path, content=body)
    return r.text if r.status_code == 200 else None


def test_service_and_pod_pages_through_kubectl_proxy(web: dict[str, str], proxy: str) -> None:
    with httpx.Client(base_url=proxy, timeout=30) as http:
        svc = "/api/v1/namespaces/default/services/px-web:http/proxy"
        page = wait_for(lambda: _answer(http, "GET", f"{svc}/"), 60, "the page through services/proxy")
        assert page == f"{web['name']}\n"
        pod = f"/api/v1/namespaces/default/pods/{web['name']}:8080/proxy"
        assert http.get(f"{pod}/").text == f"{web['name']}\n"
        r = http.get(pod)  # no path: kube's redirect to the directory
        assert (r.status_code, r.headers["location"]) == (301, f"{pod}/")
        r = http.get("/api/v1/namespaces/default/services/px-web:80/proxy/no-such-page")
        assert r.status_code == 404  # the pod's own answer, relayed


def test_post_body_reaches_the_pod(web: dict[str, str], proxy: str) -> None:
    body = b"name=kubelite&" + b"x" * 100_000
    with httpx.Client(base_url=proxy, timeout=30) as http:
        for base in (
            f"/api/v1/namespaces/default/pods/{web['name']}:8080/proxy",
            "/api/v1/namespaces/default/services/px-web:http/proxy",
        ):
            url = f"{base}/cgi-bin/echo?a=1"
            answer = wait_for(partial(_answer, http, "POST", url, body), 60, f"POST {url}")
            assert answer == "method=POST query=a=1\n" + body.decode()


def test_node_proxy_healthz(cluster: Cluster, web: dict[str, str], proxy: str) -> None:
    with httpx.Client(base_url=proxy, timeout=30) as http:
        r = http.get(f"/api/v1/nodes/{web['node']}/proxy/healthz")
        assert (r.status_code, r.text) == (200, "ok")
        r = http.get(f"/api/v1/nodes/{web['node']}/proxy/stats/summary")
        assert r.status_code == 200 and r.json()["node"]["nodeName"] == web["node"]
    raw = cluster.kubectl("get", "--raw", f"/api/v1/nodes/{web['node']}/proxy/healthz", real=True)
    assert raw.stdout == "ok"

"""pods/proxy and services/proxy through a real `kubelite server`: every method relayed with its query,
headers and body, streamed answers, kube's redirect and link rewriting, its errors (404, 400,
503) and RBAC, and discovery. The upstream is tests/apiserver/proxy_upstream.py on a global unicast
address of this host (kube refuses to proxy to loopback); pods and Endpoints are written by the
test (the session server runs no controllers). nodes/proxy and WebSockets: test_proxy_nodes.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import httpx
import pytest

from tests.apiserver.conftest import Server, free_port
from tests.apiserver.proxy_upstream import Upstreams, proxy_ip, upstreams
from tests.polling import wait_for

__all__ = ["proxy_ip"]  # the fixture, used by this module's own
RBAC = "/apis/rbac.authorization.k8s.io/v1"


@pytest.fixture(scope="module")
def up(proxy_ip: str) -> Iterator[Upstreams]:
    with upstreams(proxy_ip) as u:
        yield u


def make_pod(http: httpx.Client, ns: str, name: str, ip: str | None, port: int | None = None) -> None:
    container: dict[str, object] = {"name": "c", "image": "busybox:1"}
    if port is not None:
        container["ports"] = [{"containerPort": port}]
    r = http.post(
        f"/api/v1/namespaces/{ns}/pods",
        json={"metadata": {"name": name}, "spec": {"containers": [container]}},
    )
    assert r.status_code == 201, r.text
    status: dict[str, object] = {"phase": "Running"}
    if ip:
        status.update(podIP=ip, podIPs=[{"ip": ip}])
    r = http.patch(
        f"/api/v1/namespaces/{ns}/pods/{name}/status",
        json={"status": status},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text


def make_service(http: httpx.Client, ns: str, name: str, port: int, addresses: Sequence[object]) -> None:
    svc = {"metadata": {"name": name}, "spec": {"ports": [{"name": "http", "port": 80, "targetPort": port}]}}
    assert http.post(f"/api/v1/namespaces/{ns}/services", json=svc).status_code == 201
    subsets = [{"addresses": addresses, "ports": [{"name": "http", "port": port}]}] if addresses else []
    eps = {"metadata": {"name": name}, "subsets": subsets}
    assert http.post(f"/api/v1/namespaces/{ns}/endpoints", json=eps).status_code == 201


def status(r: httpx.Response, code: int, reason: str, message: str) -> None:
    body = r.json()
    assert (r.status_code, body["kind"], body["reason"], body["message"]) == (
        code,
        "Status",
        reason,
        message,
    ), r.text


def test_discovery(http: httpx.Client) -> None:
    listed = {r["name"]: r for r in http.get("/api/v1").json()["resources"]}
    verbs = ["create", "delete", "get", "patch", "update"]
    for plural, kind in (
        ("pods", "PodProxyOptions"),
        ("services", "ServiceProxyOptions"),
        ("nodes", "NodeProxyOptions"),
    ):
        assert (listed[f"{plural}/proxy"]["kind"], listed[f"{plural}/proxy"]["verbs"]) == (kind, verbs)
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    (group,) = http.get("/api", headers={"Accept": accept}).json()["items"]
    pods = next(r for r in group["versions"][0]["resources"] if r["resource"] == "pods")
    proxy = next(s for s in pods["subresources"] if s["subresource"] == "proxy")
    assert proxy["responseKind"]["kind"] == "PodProxyOptions" and proxy["verbs"] == verbs


def test_every_method_relayed(http: httpx.Client, up: Upstreams, ns: str) -> None:
    make_pod(http, ns, "web", up.ip)
    base = f"/api/v1/namespaces/{ns}/pods/web:{up.port}/proxy"
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        body = f"body of {method}".encode() if method in ("POST", "PUT", "PATCH") else None
        r = http.request(
            method, f"{base}/echo/a%20b", params={"x": "1", "y": "2"}, content=body, headers={"X-Test": "t"}
        )
        assert r.status_code == 200, r.text
        echo = r.json()
        assert (echo["method"], echo["path"], echo["query"]) == (method, "/echo/a%20b", "x=1&y=2")
        assert echo["body"] == (body or b"").decode()
        h = echo["headers"]
        assert h["x-test"] == "t" and "authorization" not in h  # the caller's credentials stay here
        assert h["x-forwarded-uri"] == f"{base}/echo/a b" and "127.0.0.1" in h["x-forwarded-for"]
    r = http.head(f"{base}/echo")
    assert r.status_code == 200 and r.content == b"" and int(r.headers["content-length"]) > 0


def test_bodies_streamed_both_ways(http: httpx.Client, up: Upstreams, ns: str) -> None:
    make_pod(http, ns, "web", up.ip, up.port)
    base = f"/api/v1/namespaces/{ns}/pods/web/proxy"  # no port: the container's first
    big = bytes(range(256)) * (5 * 4096)  # 5 MiB: past the API's 3 MiB limit for objects
    echo = http.post(f"{base}/upload", content=big).json()
    assert (echo["length"], echo["sha256"]) == (len(big), hashlib.sha256(big).hexdigest())
    echo = http.put(f"{base}/upload", content=iter([big[:100], big[100:]])).json()  # chunked upload
    assert echo["headers"]["transfer-encoding"] == "chunked" and echo["length"] == len(big)
    r = http.get(f"{base}/big", params={"n": 20_000_000})
    assert r.headers["content-length"] == "20000000" and r.content == b"x" * 20_000_000
    for query in ({}, {"sized": "1"}):  # the rest waits until the first part got here: not held
        up.release.clear()
        with http.stream("GET", f"{base}/stream", params=query) as r:
            chunks = r.iter_raw()
            got = b""
            while b"first-part-14\n" not in got:
                got += next(chunks)
            up.release.set()
            assert got + b"".join(chunks) == b"first-part-14\nafter-release\n"


def test_redirects_and_links_rewritten(http: httpx.Client, up: Upstreams, ns: str) -> None:
    make_pod(http, ns, "web", up.ip)
    base = f"/api/v1/namespaces/{ns}/pods/web:{up.port}/proxy"
    r = http.get(base, params={"q": "1"})  # no path: kube redirects to the directory
    assert (r.status_code, r.headers["location"]) == (301, f"{base}/?q=1")
    for to, want in (
        ("/target", f"{base}/target"),
        (f"http://{up.ip}:{up.port}/t/", f"{base}/t/"),
        ("http://elsewhere.example/x", "http://elsewhere.example/x"),
    ):
        r = http.get(f"{base}/redirect", params={"to": to})
        assert (r.status_code, r.headers["location"]) == (302, want)
    for query in ({}, {"gzip": "1"}):
        page = http.get(f"{base}/page.html", params=query).text
        for link in ('href="/style.css"', 'href="/abs/path/"', f'src="http://{up.ip}:{up.port}/img.png"'):
            assert link not in page
        assert f'href="{base}/abs/path/"' in page and f'src="{base}/img.png"' in page
        assert f'action="{base}/submit?a=1&amp;b=2"' in page and f'src="{base}/app.js"' in page
        for kept in ("href='rel/path'", 'href="http://elsewhere.example/x"', '"/in-comment"', '"/in-script"'):
            assert kept in page
    r = http.get(f"{base}/cors")
    assert r.headers["x-kept"] == "yes" and "access-control-allow-origin" not in r.headers
    assert "x-hop" not in r.headers and r.text == "cors"


def test_service_proxy(http: httpx.Client, up: Upstreams, ns: str) -> None:
    make_pod(http, ns, "web", up.ip)
    make_pod(http, ns, "moved", "192.0.2.250")
    gone = {"ip": "192.0.2.251", "targetRef": {"kind": "Pod", "namespace": ns, "name": "gone"}}
    stale = {"ip": "192.0.2.252", "targetRef": {"kind": "Pod", "namespace": ns, "name": "moved"}}
    live = {"ip": up.ip, "targetRef": {"kind": "Pod", "namespace": ns, "name": "web"}}
    make_service(http, ns, "web", up.port, [gone, stale, live])
    for name in ("web:http", "web:80", "http:web:http"):
        for _ in range(5):  # a random address each time: only the live one is a pod with that IP
            r = http.post(f"/api/v1/namespaces/{ns}/services/{name}/proxy/p", content=b"hi")
            assert r.status_code == 200 and r.json()["body"] == "hi", r.text
    r = http.get(f"/api/v1/namespaces/{ns}/services/web/proxy/")  # no port: an unnamed one, and none is
    status(r, 503, "ServiceUnavailable", 'no endpoints available for service "web"')
    r = http.get(f"/api/v1/namespaces/{ns}/services/web:81/proxy/")
    status(r, 503, "ServiceUnavailable", 'no service port 81 found for service "web"')
    make_service(http, ns, "empty", up.port, [])
    r = http.get(f"/api/v1/namespaces/{ns}/services/empty:http/proxy/")
    status(r, 503, "ServiceUnavailable", 'no endpoints available for service "empty"')
    r = http.get(f"/api/v1/namespaces/{ns}/services/nope:http/proxy/")
    status(r, 404, "NotFound", 'endpoints "nope" not found')  # kube reads the Endpoints first
    r = http.get(f"/api/v1/namespaces/{ns}/services/nope:80/proxy/")
    status(r, 404, "NotFound", 'services "nope" not found')


def test_errors_worded_as_kube(http: httpx.Client, up: Upstreams, ns: str) -> None:
    pods = f"/api/v1/namespaces/{ns}/pods"
    status(http.get(f"{pods}/nope/proxy/"), 404, "NotFound", 'pods "nope" not found')
    make_pod(http, ns, "pending", None)
    status(http.get(f"{pods}/pending:80/proxy/"), 400, "BadRequest", "address not allowed")
    make_pod(http, ns, "local", "127.0.0.1")
    status(http.get(f"{pods}/local:80/proxy/"), 400, "BadRequest", "address not allowed")
    status(http.get(f"{pods}/a:b:c:d/proxy/"), 400, "BadRequest", 'invalid pod request "a:b:c:d"')
    status(http.get(f"{pods}/ftp:web:80/proxy/"), 400, "BadRequest", 'invalid pod request "ftp:web:80"')
    make_pod(http, ns, "web", up.ip)
    closed = free_port()
    r = http.get(f"{pods}/web:{closed}/proxy/")
    want = f"error trying to reach service: dial tcp {up.ip}:{closed}: connect: connection refused"
    status(r, 503, "ServiceUnavailable", want)
    r = http.get(f"{pods}/web:{up.port}/proxy/x", headers={"Connection": "Upgrade", "Upgrade": "h2c"})
    assert r.status_code == 400 and "only WebSocket upgrades are relayed" in r.json()["message"]
    r = http.get(f"/api/v1/namespaces/{ns}/configmaps/x/proxy/")
    assert r.status_code == 404 and r.json()["details"] == {"kind": "configmaps/proxy"}


def _bind(http: httpx.Client, ns: str, kind: str, role: str) -> None:
    binding = {
        "metadata": {"name": f"bot-{role}"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": "bot", "namespace": ns}],
    }
    assert http.post(f"{RBAC}/namespaces/{ns}/rolebindings", json=binding).status_code == 201


def test_rbac(server: Server, http: httpx.Client, up: Upstreams, ns: str) -> None:
    make_pod(http, ns, "web", up.ip)
    assert (
        http.post(f"/api/v1/namespaces/{ns}/serviceaccounts", json={"metadata": {"name": "bot"}}).status_code
        == 201
    )
    rules = [{"apiGroups": [""], "resources": ["pods/proxy"], "verbs": ["get"]}]
    assert (
        http.post(
            f"{RBAC}/namespaces/{ns}/roles", json={"metadata": {"name": "proxy-get"}, "rules": rules}
        ).status_code
        == 201
    )
    _bind(http, ns, "ClusterRole", "view")
    token = http.post(f"/api/v1/namespaces/{ns}/serviceaccounts/bot/token", json={"spec": {}}).json()[
        "status"
    ]["token"]
    user = f"system:serviceaccount:{ns}:bot"
    url = f"/api/v1/namespaces/{ns}/pods/web:{up.port}/proxy/x"
    with server.client(token=token) as bot:
        wait_for(lambda: bot.get(f"/api/v1/namespaces/{ns}/pods/web").status_code == 200, 10, "view granted")
        r = bot.get(url)  # get pods, but not pods/proxy
        message = (
            f'pods "web:{up.port}" is forbidden: User "{user}" cannot get resource "pods/proxy" '
            f'in API group "" in the namespace "{ns}"'
        )
        status(r, 403, "Forbidden", message)
        _bind(http, ns, "Role", "proxy-get")
        wait_for(lambda: bot.get(url).status_code == 200, 10, "pods/proxy get granted")
        r = bot.post(url, content=b"x")  # get only: a POST asks create
        assert r.status_code == 403 and 'cannot create resource "pods/proxy"' in r.json()["message"]
        r = bot.request("OPTIONS", url)  # kube's RequestInfo gives OPTIONS no verb: only `*` grants it
        assert r.status_code == 403 and 'cannot  resource "pods/proxy"' in r.json()["message"]

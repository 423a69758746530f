"""The proxy subresources' decisions: the routes, the RBAC verb, and kube's ResourceLocation for pods,
services and nodes (apiserver.proxylocation)."""

from __future__ import annotations

import errno
import random

import pytest

from api.errors import ApiError
from apiserver import proxylocation as loc
from apiserver.handlers.routing import resolve
from apiserver.rbac.authorizer import request_verb


def _error(fn: object, *args: object) -> tuple[int, str]:
    with pytest.raises(ApiError) as e:
        fn(*args)  # type: ignore[operator]
    return e.value.code, e.value.message


@pytest.mark.parametrize(
    ("path", "where", "rest"),
    [
        ("/api/v1/namespaces/ns/pods/web/proxy", ("ns", "web"), ""),
        ("/api/v1/namespaces/ns/pods/web:8080/proxy/", ("ns", "web:8080"), "/"),
        ("/api/v1/namespaces/ns/services/https:web:443/proxy/a/b/", ("ns", "https:web:443"), "/a/b/"),
        ("/api/v1/nodes/n1/proxy/healthz", (None, "n1"), "/healthz"),
        ("/api/v1/nodes/n1:10255/proxy", (None, "n1:10255"), ""),
    ],
)
def test_routes(path: str, where: tuple[str | None, str], rest: str) -> None:
    route = resolve(path)
    assert route is not None and route.subresource == "proxy"
    assert ((route.namespace, route.name), route.path) == (where, rest)


def test_other_routes_unchanged() -> None:
    assert resolve("/api/v1/namespaces/ns/pods/web/log/x") is None
    assert resolve("/api/v1/nodes/n1/status/x") is None
    route = resolve("/api/v1/namespaces/ns/pods/web/exec")
    assert route is not None and (route.subresource, route.path) == ("exec", "")


@pytest.mark.parametrize(
    ("method", "verb"),
    [
        ("GET", "get"),
        ("HEAD", "get"),
        ("POST", "create"),
        ("PUT", "update"),
        ("PATCH", "patch"),
        ("DELETE", "delete"),
        ("OPTIONS", ""),
    ],
)
def test_rbac_verb(method: str, verb: str) -> None:
    assert request_verb(method, True, False, "proxy") == verb
    assert request_verb(method, True, False, "exec") == "create"  # the connections stay `create`


def test_split_scheme_name_port() -> None:
    assert loc.split_scheme_name_port("web", "pod") == ("", "web", "")
    assert loc.split_scheme_name_port("web:http", "service") == ("", "web", "http")
    assert loc.split_scheme_name_port("https:web:8443", "service") == ("https", "web", "8443")
    for bad in ("a:b:c:d", "ftp:web:80", ":80", "https::80"):
        assert _error(loc.split_scheme_name_port, bad, "pod") == (400, f'invalid pod request "{bad}"')


@pytest.mark.parametrize(
    ("ip", "ok"),
    [
        ("10.244.1.5", True),
        ("192.0.2.2", True),
        ("2001:db8::1", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("169.254.1.1", False),
        ("fe80::1", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        ("255.255.255.255", False),
        ("::ffff:127.0.0.1", False),
        ("", False),
        ("host", False),
    ],
)
def test_global_unicast(ip: str, ok: bool) -> None:
    assert loc.is_global_unicast(ip) is ok


def _pod(ip: str | None, *ports: int) -> dict[str, object]:
    containers = [{"name": "a"}, {"name": "b", "ports": [{"containerPort": p} for p in ports]}]
    return {"spec": {"containers": containers}, "status": {"podIPs": [{"ip": ip}]} if ip else {}}


def test_pod_upstream() -> None:
    assert loc.pod_upstream(_pod("10.0.0.5", 8080, 9090), "", "") == loc.Upstream("http", "10.0.0.5", 8080)
    assert loc.pod_upstream(_pod("10.0.0.5"), "", "") == loc.Upstream("http", "10.0.0.5", 80)
    assert loc.pod_upstream(_pod("10.0.0.5"), "https", "") == loc.Upstream("https", "10.0.0.5", 443)
    assert loc.pod_upstream(_pod("10.0.0.5", 8080), "", "81").port == 81
    assert loc.pod_upstream({"status": {"podIP": "10.0.0.6"}}, "", "http").port == 80  # a service name
    assert _error(loc.pod_upstream, _pod(None), "", "80") == (400, "address not allowed")
    assert _error(loc.pod_upstream, _pod("127.0.0.1"), "", "80") == (400, "address not allowed")
    code, message = _error(loc.pod_upstream, _pod("10.0.0.5"), "", "no-such-port")
    assert (code, message) == (
        503,
        "error trying to reach service: dial tcp: lookup tcp/no-such-port: unknown port",
    )


def test_upstream_url() -> None:
    up = loc.Upstream("https", "fd00::5", 8443)
    assert up.url("/a b/c?d", "x=1") == "https://[fd00::5]:8443/a%20b/c%3Fd?x=1"
    assert up.url("/ws", websocket=True) == "wss://[fd00::5]:8443/ws"
    assert loc.Upstream("http", "10.0.0.1", 80).url("/$&+,:;=@!") == "http://10.0.0.1:80/$&+,:;=@%21"


def _svc(*ports: tuple[str, int]) -> dict[str, object]:
    return {"metadata": {"name": "web"}, "spec": {"ports": [{"name": n, "port": p} for n, p in ports]}}


def test_service_port_name() -> None:
    assert loc.names_port_number("80") and loc.names_port_number("+80") and not loc.names_port_number("http")
    assert loc.service_port_name(_svc(("http", 80), ("admin", 81)), "81") == "admin"
    assert loc.service_port_name({"spec": {"ports": [{"port": 80}]}}, "80") == ""
    assert _error(loc.service_port_name, _svc(("http", 80)), "82") == (
        503,
        'no service port 82 found for service "web"',
    )


def _addr(ip: str, pod: str = "p", ns: str = "ns") -> dict[str, object]:
    return {"ip": ip, "targetRef": {"kind": "Pod", "namespace": ns, "name": pod}}


def test_endpoint_candidates() -> None:
    eps = {
        "metadata": {"name": "web"},
        "subsets": [
            {"notReadyAddresses": [_addr("10.0.0.9")], "ports": [{"name": "http", "port": 8080}]},
            {"addresses": [_addr("10.0.0.1"), _addr("10.0.0.2")], "ports": [{"name": "http", "port": 8080}]},
            {
                "addresses": [_addr("10.0.0.3")],
                "ports": [{"name": "admin", "port": 9000}, {"name": "http", "port": 81}],
            },
        ],
    }
    seen = set()
    for seed in range(20):
        got = loc.endpoint_candidates(eps, "http", random.Random(seed))
        assert sorted((c.ip, c.port) for c in got) == [
            ("10.0.0.1", 8080),
            ("10.0.0.2", 8080),
            ("10.0.0.3", 81),
        ]
        seen.add(got[0].ip)
    assert seen == {"10.0.0.1", "10.0.0.2", "10.0.0.3"}  # any ready address may come first
    assert [c.port for c in loc.endpoint_candidates(eps, "admin", random.Random(1))] == [9000]
    assert loc.endpoint_candidates(eps, "", random.Random(1)) == []  # no unnamed port here
    empty = {"metadata": {"name": "web"}, "subsets": []}
    assert _error(loc.endpoint_candidates, empty, "http", random.Random(1)) == (
        503,
        'no endpoints available for service "web"',
    )


def test_candidate_must_still_be_its_pod() -> None:
    c = loc.Candidate("10.0.0.1", 80, {"kind": "Pod", "namespace": "ns", "name": "p"})
    assert loc.target_pod(c, "ns") == "p"
    assert loc.target_pod(c, "other") is None
    assert loc.target_pod(loc.Candidate("10.0.0.1", 80, None), "ns") is None
    assert loc.pod_has_ip({"status": {"podIPs": [{"ip": "10.0.0.1"}]}}, "10.0.0.1")
    assert loc.pod_has_ip({"status": {"podIP": "10.0.0.1"}}, "10.0.0.1")
    assert not loc.pod_has_ip({"status": {"podIPs": [{"ip": "10.0.0.2"}]}}, "10.0.0.1")
    assert loc.service_upstream("https", c) == loc.Upstream("https", "10.0.0.1", 80)


def test_node_upstream() -> None:
    node = {
        "status": {
            "addresses": [
                {"type": "Hostname", "address": "n1"},
                {"type": "InternalIP", "address": "10.250.0.2"},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        }
    }
    kubelet = loc.Upstream("https", "10.250.0.2", 10250, kubelet=True)
    assert loc.node_upstream(node, "", "") == kubelet
    assert loc.node_upstream(node, "http", "10250") == kubelet  # the kubelet's port: the kubelet's way
    assert loc.node_upstream(node, "", "9100") == loc.Upstream("http", "10.250.0.2", 9100)
    assert loc.node_upstream(node, "https", "9100") == loc.Upstream("https", "10.250.0.2", 9100)


@pytest.mark.parametrize(
    ("rest", "path"),
    [
        ("", ""),
        ("/", "/"),
        ("//", "/"),
        ("/a/b", "/a/b"),
        ("/a/b/", "/a/b/"),
        ("/a/../b/./c", "/b/c"),
        ("/../..", "/"),
        ("//x//y/", "/x/y/"),
    ],
)
def test_upstream_path(rest: str, path: str) -> None:
    assert loc.upstream_path(rest) == path


def test_redirect_only_get_and_head_without_path() -> None:
    assert loc.redirects_to_slash("", "GET") and loc.redirects_to_slash("", "HEAD")
    assert not loc.redirects_to_slash("", "POST") and not loc.redirects_to_slash("/", "GET")


def test_dial_error_in_go_words() -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    wrapped = RuntimeError("All connection attempts failed")
    wrapped.__cause__ = refused
    assert loc.dial_error(wrapped, "10.0.0.1:80") == "dial tcp 10.0.0.1:80: connect: connection refused"
    unreachable = OSError(errno.EHOSTUNREACH, "No route to host")
    assert loc.dial_error(unreachable, "10.0.0.1:80") == "dial tcp 10.0.0.1:80: connect: no route to host"
    assert (
        loc.dial_error(TimeoutError(), "10.0.0.1:80", timed_out=True) == "dial tcp 10.0.0.1:80: i/o timeout"
    )
    assert loc.dial_error(ValueError("odd"), "h:1") == "odd"

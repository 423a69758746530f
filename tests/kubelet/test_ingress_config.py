"""The ingress controller's decisions and nginx file: host and path rules as kube defines them
(Exact, element-wise Prefix, longest match, oldest Ingress wins), backends from ready slice
endpoints, default backends, TLS servers; and real nginx accepts every file rendered here."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from kubelet.ingress import nginxconf, routes
from tests.objects import endpoint_slice

Obj = dict[str, Any]


def svc(name: str, port: int = 80, port_name: str = "http", ns: str = "default") -> Obj:
    return {
        "metadata": {"name": name, "namespace": ns},
        "spec": {"ports": [{"name": port_name, "port": port, "protocol": "TCP"}]},
    }


def backend(name: str, number: int | None = 80, port_name: str = "") -> Obj:
    port = {"name": port_name} if port_name else {"number": number}
    return {"service": {"name": name, "port": port}}


def ingress(name: str, rules: list[Obj], created: str = "2026-01-01T00:00:00Z", **spec: Any) -> Obj:
    return {
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": created},
        "spec": {"ingressClassName": "kubelite", "rules": rules, **spec},
    }


def rule(host: str, *paths: tuple[str, str, Obj]) -> Obj:
    return {"host": host, "http": {"paths": [{"path": p, "pathType": t, "backend": b} for p, t, b in paths]}}


def test_backends_are_ready_endpoints_on_the_slice_port() -> None:
    ing = ingress(
        "a",
        [
            rule(
                "demo.local",
                ("/", "Prefix", backend("web")),
                ("/api", "Prefix", backend("api", 9)),
                ("/down", "Exact", backend("down", port_name="http")),
            )
        ],
    )
    servers, ups = routes.build(
        [ing],
        [svc("web"), svc("api", 9, "grpc"), svc("down")],
        [
            endpoint_slice("web", "10.244.0.2", "10.244.1.3"),
            endpoint_slice("web", "10.244.2.9", ready=False),
            endpoint_slice("api", "10.244.0.5", port=9000, port_name="grpc"),
            endpoint_slice("down", "10.244.0.6", ready=False),
        ],
        {},
    )
    assert [s.host for s in servers] == ["", "demo.local"]
    assert ups == [
        routes.Upstream("u_default_api_9", (("10.244.0.5", 9000),)),
        routes.Upstream("u_default_web_80", (("10.244.0.2", 8080), ("10.244.1.3", 8080))),
    ]
    locs = servers[1].locations
    assert locs[("/", False)].target == "u_default_web_80"
    assert locs[("/down", True)].target == routes.NO_ENDPOINTS  # nothing ready: 503
    assert servers[0].fallback == routes.NOT_FOUND


def test_oldest_ingress_wins_and_default_backend_takes_the_rest() -> None:
    old = ingress("old", [rule("demo.local", ("/a", "Prefix", backend("web")))], "2026-01-01T00:00:00Z")
    new = ingress(
        "new",
        [rule("demo.local", ("/a/", "Prefix", backend("api")), ("/b", "Prefix", backend("api")))],
        "2026-01-02T00:00:00Z",
        defaultBackend=backend("api"),
    )
    servers, _ = routes.build(
        [new, old],
        [svc("web"), svc("api")],
        [endpoint_slice("web", "10.0.0.1"), endpoint_slice("api", "10.0.0.2")],
        {},
    )
    locs = servers[1].locations
    assert locs[("/a", False)].source == "default/old"  # "/a/" is "/a": the older one holds it
    assert locs[("/b", False)].source == "default/new"
    assert servers[0].fallback == "u_default_api_80"  # the default server takes the default backend


def test_rendered_locations_match_kube_path_semantics() -> None:
    ing = ingress(
        "a",
        [
            rule(
                "demo.local",
                ("/foo", "Prefix", backend("web")),
                ("/foo", "Exact", backend("api")),
                ("/x y", "ImplementationSpecific", backend("web")),
            ),
            rule("*.wild.test", ("/", "Prefix", backend("web"))),
        ],
    )
    servers, ups = routes.build(
        [ing],
        [svc("web"), svc("api")],
        [endpoint_slice("web", "10.0.0.1"), endpoint_slice("api", "10.0.0.2")],
        {},
    )
    text = nginxconf.render(servers, ups)
    assert (
        'location = "/foo" {' in text and text.count('location = "/foo" {') == 1
    )  # Exact wins the exact path
    exact = text.index('location = "/foo" {')
    assert "u_default_api_80" in text[exact : exact + 120]
    assert 'location ^~ "/foo/" {' in text  # /foo/bar matches, /foobar does not
    assert 'location ^~ "/x y/" {' in text
    assert "server_name ~^[^.]+\\.wild\\.test$;" in text  # one label only
    assert "ssl_reject_handshake on;" in text


def test_tls_hosts_get_the_secret_and_unusable_secrets_are_skipped() -> None:
    ing = ingress(
        "a",
        [rule("secure.local", ("/", "Prefix", backend("web"))), rule("plain.local")],
        tls=[{"hosts": ["secure.local"], "secretName": "cert"}, {"secretName": "missing"}],
    )
    servers, _ = routes.build(
        [ing], [svc("web")], [endpoint_slice("web", "10.0.0.1")], {"default/cert": b"pem"}
    )
    by_host = {s.host: s for s in servers}
    assert by_host["secure.local"].cert == "default/cert"
    assert by_host["plain.local"].cert == ""  # the other entry's Secret is not usable
    text = nginxconf.render(servers, [])
    assert "ssl_certificate certs/default_cert.pem;" in text


def test_real_nginx_accepts_the_file(tmp_path: Path) -> None:
    from kubelet.ingress.nginx import Nginx

    ing = ingress(
        "a",
        [
            rule("demo.local", ("/", "Prefix", backend("web")), ("/a b;{", "Prefix", backend("web"))),
            rule("", ("/x", "Exact", backend("gone"))),
        ],
        defaultBackend=backend("web"),
    )
    servers, ups = routes.build([ing], [svc("web")], [endpoint_slice("web", "10.0.0.1", "10.0.0.2")], {})
    nginx = Nginx(tmp_path)
    assert nginx.install(nginxconf.render(servers, ups), {}) is True
    assert (tmp_path / "nginx.conf").read_text() == nginx.installed
    assert nginx.install(nginx.installed, {}) is False  # unchanged: nothing written, no reload
    try:
        nginx.install("http { broken", {})
        raise AssertionError("nginx accepted a broken file")
    except ValueError as e:
        assert "nginx refused" in str(e)
    assert (tmp_path / "nginx.conf").read_text() == nginx.installed  # the good one stays
    r = subprocess.run(
        ["nginx", "-t", "-p", f"{tmp_path}/", "-c", "nginx.conf"], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr

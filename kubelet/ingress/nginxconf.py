"""The nginx configuration for the routes of `routes.build` (pure).

One `server` per host plus a default server for requests no host takes. Path rules become
`location` blocks: Exact is `location = /p`; Prefix is `location = /p` plus `location ^~ /p/`
(nginx's longest-prefix match then gives kube's element-wise match: `/p/x` matches, `/px` does
not); the prefix `/` is `location /`. An unmatched path falls to the server's `location /`
(the Ingress's default backend, or 404). Upstreams list the endpoints themselves, and a request
whose endpoint refuses or resets is retried once on another (a pod that just went away).

TLS servers listen on 443 with the Secret's certificate; the default server refuses the TLS
handshake for names no certificate covers (`ssl_reject_handshake`), as no fallback certificate
is made up. All paths are relative to the controller's state directory (`prefix`).
"""

from __future__ import annotations

import re

from kubelet.ingress.routes import NO_ENDPOINTS, NOT_FOUND, Server, Upstream

HTTP_PORT = 80
HTTPS_PORT = 443


def quote(text: str) -> str:
    """An nginx string literal (paths may hold spaces, braces or semicolons)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def server_name(host: str) -> str:
    """`*.example.com` matches exactly one label in kube; nginx's own wildcard matches several."""
    if host.startswith("*."):
        return "~^[^.]+" + re.escape(host[1:]) + "$"
    return host


def cert_file(cert: str) -> str:
    return "certs/" + cert.replace("/", "_") + ".pem"


def _proxy(target: str) -> list[str]:
    if target == NOT_FOUND:
        return ["return 404;"]
    if target == NO_ENDPOINTS:
        return ["return 503;"]
    return [f"proxy_pass http://{target};"]


def _blocks(server: Server) -> dict[str, list[str]]:
    """nginx location spec -> body; Exact first, so a Prefix of the same path keeps only `^~ /p/`."""
    blocks: dict[str, list[str]] = {}
    for key in sorted(server.locations, key=lambda k: (k[0], not k[1])):
        loc = server.locations[key]
        body = [f"# {loc.source}", *_proxy(loc.target)]
        if loc.exact:
            specs = [f"= {quote(loc.path)}"]
        elif loc.path == "/":
            specs = ["/"]
        else:
            specs = [f"= {quote(loc.path)}", f"^~ {quote(loc.path + '/')}"]
        for spec in specs:
            blocks.setdefault(spec, body)
    blocks.setdefault("/", _proxy(server.fallback))
    return blocks


def _server(server: Server, http_port: int, https_port: int) -> list[str]:
    default = not server.host
    flag = " default_server" if default else ""
    lines = ["server {", f"listen {http_port}{flag};"]
    if server.cert or default:
        lines.append(f"listen {https_port} ssl{flag};")
    lines.append("server_name _;" if default else f"server_name {server_name(server.host)};")
    if server.cert:
        lines += [
            f"ssl_certificate {cert_file(server.cert)};",
            f"ssl_certificate_key {cert_file(server.cert)};",
        ]
    elif default:
        lines.append("ssl_reject_handshake on;")
    for spec, body in _blocks(server).items():
        lines += [f"location {spec} {{", *body, "}"]
    lines.append("}")
    return lines


def _upstream(up: Upstream) -> list[str]:
    return [
        f"upstream {up.name} {{",
        *(f"server {ip}:{port} max_fails=0;" for ip, port in up.servers),
        "keepalive 16;",
        "}",
    ]


def render(
    servers: list[Server],
    upstreams: list[Upstream],
    workers: int | str = "auto",
    http_port: int = HTTP_PORT,
    https_port: int = HTTPS_PORT,
) -> str:
    lines = [
        "# written by the kubelite agent's ingress controller; rewritten on every change",
        f"worker_processes {workers};",
        "daemon off;",
        "pid nginx.pid;",
        "error_log logs/error.log warn;",
        "events {",
        "worker_connections 4096;",
        "}",
        "http {",
        "access_log off;",
        "server_tokens off;",
        "client_body_temp_path tmp/body;",
        "proxy_temp_path tmp/proxy;",
        "fastcgi_temp_path tmp/fastcgi;",
        "uwsgi_temp_path tmp/uwsgi;",
        "scgi_temp_path tmp/scgi;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_set_header Host $host;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-Host $host;",
        "proxy_connect_timeout 2s;",
        "proxy_next_upstream error timeout http_502 non_idempotent;",
        "proxy_next_upstream_tries 3;",
        "ssl_protocols TLSv1.2 TLSv1.3;",
        "ssl_session_cache shared:SSL:1m;",
        "server_names_hash_bucket_size 128;",
    ]
    for up in upstreams:
        lines += _upstream(up)
    for server in servers:
        lines += _server(server, http_port, https_port)
    lines.append("}")
    out, depth = [], 0
    for line in lines:  # indent by nesting, for whoever reads the file
        if line == "}":
            depth -= 1
        out.append("    " * depth + line)
        if line.endswith("{"):
            depth += 1
    return "\n".join(out) + "\n"

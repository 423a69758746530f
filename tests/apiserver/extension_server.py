"""A tiny real extension API server for the aggregation tests: what metrics-server or an
apiserver-builder server is to kube-apiserver, in a threaded http.server.

It serves HTTPS with a throwaway certificate of its own (for `<service>.<namespace>.svc` and its
address), asks for a client certificate and trusts only the front proxy's: a certificate verified
against `requestheader-client-ca-file` of kube-system/extension-apiserver-authentication whose
CommonName is one of `requestheader-allowed-names`; the caller is then who `X-Remote-User` and
`X-Remote-Group` say. Anything else is answered 401, as the requestheader authenticator would
leave it anonymous.

Paths: `/apis/wardle.example.com/v1alpha1` (an APIResourceList: namespaced `flunders`, kind
Flunder, get/list/watch), its `flunders` lists (every namespace or one), whose items say who
asked (`spec.seenBy`); with `watch=true` an ADDED event per item, then a MODIFIED one once
`release` is set, then the end; `/apis/metrics.k8s.io/v1beta1` and its `nodes` (one NodeMetrics,
`from-extension-server`). A WebSocket upgrade of any path is accepted: a first message says who
asked, then one message is echoed and the socket closed. Every request is recorded in `calls`. `stop` and `start` again keep the
port, so a test can take the backend away and bring it back.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from tests.tls import self_signed

GROUP, VERSION = "wardle.example.com", "v1alpha1"
METRICS = "metrics.k8s.io/v1beta1"


@dataclass
class Call:
    path: str
    query: str
    user: str
    groups: list[str]
    extra: dict[str, list[str]]
    common_name: str
    authorization: bool


def _resource_list(group_version: str) -> dict[str, Any]:
    if group_version == METRICS:
        resources = [
            {
                "name": "nodes",
                "singularName": "",
                "namespaced": False,
                "kind": "NodeMetrics",
                "verbs": ["get", "list"],
            },
            {
                "name": "pods",
                "singularName": "",
                "namespaced": True,
                "kind": "PodMetrics",
                "verbs": ["get", "list"],
            },
        ]
    else:
        resources = [
            {
                "name": "flunders",
                "singularName": "flunder",
                "namespaced": True,
                "kind": "Flunder",
                "verbs": ["get", "list", "watch"],
                "shortNames": ["fl"],
            },
            {
                "name": "flunders/status",
                "singularName": "",
                "namespaced": True,
                "kind": "Flunder",
                "verbs": ["get"],
            },
        ]
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _identify(self) -> Call:
        conn: Any = self.connection
        peer: dict[str, Any] = conn.getpeercert() or {}
        cn = next((v for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName"), "")
        path, _, query = self.path.partition("?")
        extra: dict[str, list[str]] = {}
        for key, value in self.headers.items():
            if key.lower().startswith("x-remote-extra-"):
                extra.setdefault(key[len("x-remote-extra-") :].lower(), []).append(value)
        return Call(
            path,
            query,
            self.headers.get("X-Remote-User", ""),
            self.headers.get_all("X-Remote-Group") or [],
            extra,
            str(cn),
            "Authorization" in self.headers,
        )

    def do_GET(self) -> None:
        call = self._identify()
        self.server.calls.append(call)
        if call.common_name not in self.server.allowed_names or not call.user:
            self._send(401, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 401})
            return
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self._websocket(call)
            return
        parts = [p for p in call.path.split("/") if p]
        query = {k: v[0] for k, v in parse_qs(call.query).items()}
        if parts[:3] == ["apis", *METRICS.split("/")]:
            if parts[3:] == []:
                self._send(200, _resource_list(METRICS))
                return
            if parts[3:] == ["nodes"]:
                node = {
                    "metadata": {
                        "name": "from-extension-server",
                        "creationTimestamp": "2026-01-01T00:00:00Z",
                    },
                    "timestamp": "2026-01-01T00:00:00Z",
                    "window": "15s",
                    "usage": {"cpu": "1000000n", "memory": "1024Ki"},
                }
                self._send(
                    200, {"kind": "NodeMetricsList", "apiVersion": METRICS, "metadata": {}, "items": [node]}
                )
                return
        elif parts[:3] == ["apis", GROUP, VERSION]:
            rest = parts[3:]
            if not rest:
                self._send(200, _resource_list(f"{GROUP}/{VERSION}"))
                return
            namespace = rest[1] if rest[0] == "namespaces" and len(rest) > 2 else "default"
            if rest[-1] == "flunders":
                self._flunders(namespace, call.user, query.get("watch") == "true")
                return
        self._send(
            404,
            {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404},
        )

    def _websocket(self, call: Call) -> None:
        """Accept the upgrade, say who asked, echo one message, close (RFC 6455, text frames)."""
        key = self.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header(
            "Sec-WebSocket-Accept", base64.b64encode(hashlib.sha1(key.encode()).digest()).decode()
        )
        self.end_headers()
        self._frame(json.dumps({"user": call.user, "groups": call.groups, "path": call.path}).encode())
        head = self.rfile.read(2)
        length = head[1] & 0x7F
        if length == 126:
            length = int.from_bytes(self.rfile.read(2), "big")
        mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
        self._frame(bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(length))))
        self.wfile.write(b"\x88\x02\x03\xe8")  # close, 1000
        self.wfile.flush()
        self.close_connection = True

    def _frame(self, data: bytes) -> None:
        size = bytes([len(data)]) if len(data) < 126 else b"\x7e" + len(data).to_bytes(2, "big")
        self.wfile.write(b"\x81" + size + data)
        self.wfile.flush()

    def _flunders(self, namespace: str, user: str, watch: bool) -> None:
        items = [
            {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "Flunder",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "creationTimestamp": "2026-01-01T00:00:00Z",
                },
                "spec": {"seenBy": user},
            }
            for name in ("flunder-a", "flunder-b")
        ]
        if not watch:
            self._send(
                200,
                {"kind": "FlunderList", "apiVersion": f"{GROUP}/{VERSION}", "metadata": {}, "items": items},
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(kind: str, obj: dict[str, Any]) -> None:
            line = json.dumps({"type": kind, "object": obj}).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.flush()

        for item in items:
            event("ADDED", item)
        if self.server.release.wait(20):
            event("MODIFIED", {**items[0], "spec": {"seenBy": user, "changed": True}})
        self.wfile.write(b"0\r\n\r\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    calls: list[Call]
    allowed_names: list[str]
    release: threading.Event
    connections: set[socket.socket]

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        self.connections.add(conn)
        return conn, address

    def shutdown_request(self, request: Any) -> None:
        self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End the kept-alive connections too: a stopped server answers nothing more."""
        for conn in list(self.connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


@dataclass
class ExtensionServer:
    """The server, on `ip`, trusting the front proxy as `authentication` (the ConfigMap's data) says."""

    ip: str
    authentication: dict[str, str]
    tmp: Path
    dns: tuple[str, ...] = ("api.wardle.svc",)
    port: int = 0
    calls: list[Call] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    _httpd: _Server | None = None

    def __post_init__(self) -> None:
        self.cert, key = self_signed("wardle-apiserver", dns=self.dns, ips=(self.ip,))
        (self.tmp / "ext.crt").write_bytes(self.cert)
        (self.tmp / "ext.key").write_bytes(key)

    def start(self) -> None:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.tmp / "ext.crt"), str(self.tmp / "ext.key"))
        ctx.load_verify_locations(cadata=self.authentication["requestheader-client-ca-file"])
        ctx.verify_mode = ssl.CERT_OPTIONAL
        httpd = _Server((self.ip, self.port), _Handler)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
        httpd.calls = self.calls
        httpd.allowed_names = json.loads(self.authentication["requestheader-allowed-names"])
        httpd.release = self.release
        httpd.connections = set()
        self.port = httpd.server_address[1]
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        self._httpd = httpd

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd.close_connections()
            self._httpd = None

"""A real HTTPS admission webhook for tests: a threaded http.server on 127.0.0.1 with a throwaway
certificate (tests/tls.py), answering AdmissionReviews by path and keeping every request it got.

Paths: `/allow`; `/deny-bad` (refuses objects named bad-*, with a message and code 403);
`/label` (a JSONPatch adding the label `mutated-by: webhook`); `/warn` (allows, with a warning);
`/slow` (answers only when released, or after 5 s); `/bad-uid` (answers another uid);
`/add-a`, `/add-b` (add the label a or b when missing: reinvocation).
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.tls import self_signed


def _patch_label(obj: dict[str, Any], key: str, value: str) -> list[dict[str, Any]]:
    if not (obj.get("metadata") or {}).get("labels"):
        return [{"op": "add", "path": "/metadata/labels", "value": {key: value}}]
    return [{"op": "add", "path": f"/metadata/labels/{key}", "value": value}]


def answer(path: str, request: dict[str, Any], release: threading.Event) -> dict[str, Any]:
    obj = request.get("object") or request.get("oldObject") or {}
    labels = (obj.get("metadata") or {}).get("labels") or {}
    response: dict[str, Any] = {"uid": request["uid"], "allowed": True}
    patch: list[dict[str, Any]] = []
    if path == "/deny-bad" and str((obj.get("metadata") or {}).get("name", "")).startswith("bad"):
        response.update(allowed=False, status={"code": 403, "message": "no bad names here"})
    elif path == "/label":
        patch = _patch_label(obj, "mutated-by", "webhook")
    elif path == "/warn":
        response["warnings"] = ["be careful"]
    elif path == "/slow":
        release.wait(5)
    elif path == "/bad-uid":
        response["uid"] = "not-" + request["uid"]
    elif path in ("/add-a", "/add-b") and path[-1] not in labels:
        patch = _patch_label(obj, path[-1], "yes")
    if patch:
        response.update(patchType="JSONPatch", patch=base64.b64encode(json.dumps(patch).encode()).decode())
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}


class WebhookServer:
    def __init__(self, tmp: Path, dns: tuple[str, ...] = ()) -> None:
        self.cert, key = self_signed("webhook", dns=dns, ips=("127.0.0.1",))
        (tmp / "hook.crt").write_bytes(self.cert)
        (tmp / "hook.key").write_bytes(key)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.connections = 0  # TLS connections accepted (the API server should keep them)
        self.release = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real webhook servers answer

            def setup(self) -> None:
                hook.connections += 1
                super().setup()

            def do_POST(self) -> None:
                review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                path = self.path.split("?")[0]
                hook.calls.append((path, review["request"]))
                body = json.dumps(answer(path, review["request"], hook.release)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(tmp / "hook.crt", tmp / "hook.key")
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]

    @property
    def ca_bundle(self) -> str:
        return base64.b64encode(self.cert).decode()

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def requests(self, path: str) -> list[dict[str, Any]]:
        return [r for p, r in self.calls if p == path]


@contextmanager
def webhook_server(tmp: Path, dns: tuple[str, ...] = ()) -> Iterator[WebhookServer]:
    server = WebhookServer(tmp, dns)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.httpd.shutdown()
        server.httpd.server_close()

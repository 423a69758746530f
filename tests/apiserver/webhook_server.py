"""A real HTTPS webhook for tests: a threaded http.server on 127.0.0.1 with a throwaway certificate
(tests/tls.py), answering AdmissionReviews and CRD ConversionReviews by path and keeping every
request it got (and the apiVersion of every review in `review_versions`).

Admission paths: `/allow`; `/deny-bad` (refuses objects named bad-*, with a message and code 403);
`/label` (a JSONPatch adding the label `mutated-by: webhook`); `/warn` (allows, with a warning);
`/slow` (answers only when released, or after 5 s); `/bad-uid` (answers another uid);
`/add-a`, `/add-b` (add the label a or b when missing: reinvocation); `/replicas-5` (a Scale's
spec.replicas made 5); `/target-node-b` (a Binding's target node made node-b).

Conversion paths, for the k8s docs' CronTab whose v1 `spec.schedule` is v1beta1's `spec.cronSpec`:
`/convert` (converts, answering in the review's own apiVersion); `/convert-slow` (converts once
released, or after 5 s); `/convert-labels` (converts, adds the label `converted: yes` and changes
the generation, which the API server must undo); bad answers: `/convert-wrong-version` (objects
left in their version), `/convert-rename` (a changed name), `/convert-drop` (no objects),
`/convert-fail` (result Failure, "cannot convert this").
"""

from __future__ import annotations

import base64
import copy
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

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
    elif path == "/replicas-5":
        patch = [{"op": "replace", "path": "/spec/replicas", "value": 5}]
    elif path == "/target-node-b":
        patch = [{"op": "replace", "path": "/target/name", "value": "node-b"}]
    if patch:
        response.update(patchType="JSONPatch", patch=base64.b64encode(json.dumps(patch).encode()).decode())
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}


def convert_crontab(obj: dict[str, Any], desired: str) -> dict[str, Any]:
    """A CronTab in the desired apiVersion: v1's `spec.schedule` is v1beta1's `spec.cronSpec`."""
    out = copy.deepcopy(obj)
    spec = out.get("spec") or {}
    if desired.endswith("/v1") and "cronSpec" in spec:
        spec["schedule"] = spec.pop("cronSpec")
    elif desired.endswith("/v1beta1") and "schedule" in spec:
        spec["cronSpec"] = spec.pop("schedule")
    out["apiVersion"] = desired
    return out


def conversion_answer(path: str, review: dict[str, Any], release: threading.Event) -> dict[str, Any]:
    request = review["request"]
    desired = request["desiredAPIVersion"]
    objects = [convert_crontab(o, desired) for o in request["objects"]]
    result: dict[str, Any] = {"status": "Success"}
    if path == "/convert-slow":
        release.wait(5)
    elif path == "/convert-labels":
        for o in objects:
            o["metadata"].setdefault("labels", {})["converted"] = "yes"
            o["metadata"]["generation"] = 99
    elif path == "/convert-wrong-version":
        objects = request["objects"]
    elif path == "/convert-rename":
        for o in objects:
            o["metadata"]["name"] += "-renamed"
    elif path == "/convert-drop":
        objects = []
    elif path == "/convert-fail":
        objects, result = [], {"status": "Failure", "message": "cannot convert this"}
    response = {"uid": request["uid"], "convertedObjects": objects, "result": result}
    return {"apiVersion": review["apiVersion"], "kind": "ConversionReview", "response": response}


class WebhookServer:
    def __init__(self, tmp: Path, dns: tuple[str, ...] = ()) -> None:
        self.cert, key = self_signed("webhook", dns=dns, ips=("127.0.0.1",))
        (tmp / "hook.crt").write_bytes(self.cert)
        (tmp / "hook.key").write_bytes(key)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.review_versions: list[str] = []
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
                hook.review_versions.append(review.get("apiVersion", ""))
                if review.get("kind") == "ConversionReview":
                    body = json.dumps(conversion_answer(path, review, hook.release)).encode()
                else:
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

    def behind_service(self, api: httpx.Client, namespace: str, name: str) -> None:
        """Make the Service `name` in `namespace` (both made when missing), port 443 named https,
        whose one ready endpoint is this server (an EndpointSlice)."""
        if api.get(f"/api/v1/namespaces/{namespace}/services/{name}").status_code == 200:
            return
        if api.get(f"/api/v1/namespaces/{namespace}").status_code == 404:
            api.post("/api/v1/namespaces", json={"metadata": {"name": namespace}}).raise_for_status()
        service = {"metadata": {"name": name}, "spec": {"ports": [{"name": "https", "port": 443}]}}
        api.post(f"/api/v1/namespaces/{namespace}/services", json=service).raise_for_status()
        eps = {
            "metadata": {"name": f"{name}-1", "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}],
            "ports": [{"name": "https", "port": self.port, "protocol": "TCP"}],
        }
        api.post(
            f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices", json=eps
        ).raise_for_status()


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

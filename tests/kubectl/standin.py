"""A stand-in API server for kubectl's tests: in memory, threads, the Kubernetes wire protocol.

It serves what kubectl needs when the real `kubelite server` cannot provide it in a test:
pod logs (text/plain, `follow`, `tailLines`) and exec over WebSocket `v5.channel.k8s.io` (the
kubelet side arrives later), plus plain CRUD, list, watch, patch (strategic, merge, JSON),
scale, Tables and 422/404/409 Status errors, so every verb can also be exercised in isolation.
`websockets`' sync server answers both plain HTTP (`process_request`) and WebSocket upgrades.
"""

from __future__ import annotations

import copy
import threading
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from api import jsonutil
from api.errors import ApiError, already_exists, field_required, invalid, not_found
from api.resources import by_plural
from api.selectors import parse_field_selector, parse_label_selector
from api.strategic import PathShape, merge_patch, strategic_merge
from api.tables import to_table
from apiserver.patch.jsonpatch import json_patch

Obj = dict[str, Any]


class StandIn:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], Obj] = {}
        self.rv = 1
        self.events: list[tuple[int, str, str, str, Obj]] = []  # rv, type, plural, ns, obj
        self.cond = threading.Condition()
        self.logs: dict[str, str] = {}  # pod name -> log text
        self.exec_handler: Any = None  # (WebSocket, query) -> None
        self.exec_refusal: ApiError | None = None  # answered (a Status) instead of the upgrade
        self.requests: list[tuple[str, str]] = []
        self.tables = True  # answer Table when asked (False: plain lists, like a minimal server)
        self.simulate_rcs = True  # RC status follows spec at once, as if pods were ready
        self.server: Any = None

    # --- store ---------------------------------------------------------------------------
    def _commit(self, kind: str, plural: str, ns: str, obj: Obj) -> Obj:
        with self.cond:
            self.rv += 1
            obj["metadata"]["resourceVersion"] = str(self.rv)
            key = (plural, ns, obj["metadata"]["name"])
            if plural == "replicationcontrollers" and self.simulate_rcs and kind != "DELETED":
                n = (obj.get("spec") or {}).get("replicas", 1)
                obj["status"] = {"replicas": n, "readyReplicas": n, "availableReplicas": n}
            if kind == "DELETED":
                self.objects.pop(key, None)
            else:
                self.objects[key] = obj
            self.events.append((self.rv, kind, plural, ns, copy.deepcopy(obj)))
            self.cond.notify_all()
        return obj

    def put(self, plural: str, obj: Obj, ns: str = "default") -> Obj:
        """Seed an object directly (e.g. a pod with status)."""
        res = by_plural("", plural)
        assert res is not None
        obj = copy.deepcopy(obj)
        obj.setdefault("apiVersion", res.api_version)
        obj.setdefault("kind", res.kind)
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", jsonutil.now_str())
        if res.namespaced:
            meta["namespace"] = ns
        return self._commit("ADDED", plural, ns if res.namespaced else "", obj)

    # --- HTTP ----------------------------------------------------------------------------
    def start(self) -> str:
        self.server = make_http_server(self)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class WebSocket:
    """The server end of a WebSocket, by hand (RFC 6455): independent of the client library."""

    def __init__(self, rfile: Any, wfile: Any) -> None:
        self.rfile, self.wfile = rfile, wfile

    def send(self, data: bytes) -> None:
        n = len(data)
        head = bytes([0x82]) + (
            bytes([n])
            if n < 126
            else bytes([126]) + n.to_bytes(2, "big")
            if n < 65536
            else bytes([127]) + n.to_bytes(8, "big")
        )
        self.wfile.write(head + data)
        self.wfile.flush()

    def recv(self) -> bytes | None:
        """The next data frame's payload; None once the client closes."""
        while True:
            head = self.rfile.read(2)
            if len(head) < 2:
                return None
            op, n = head[0] & 0x0F, head[1] & 0x7F
            if n == 126:
                n = int.from_bytes(self.rfile.read(2), "big")
            elif n == 127:
                n = int.from_bytes(self.rfile.read(8), "big")
            mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(n)))
            if op == 8:
                try:
                    self.wfile.write(b"\x88\x00")
                    self.wfile.flush()
                except OSError:
                    pass
                return None
            if op == 9:
                continue
            return data

    def close(self) -> None:
        try:
            self.wfile.write(b"\x88\x02\x03\xe8")
            self.wfile.flush()
        except OSError:
            pass


def make_http_server(s: StandIn) -> Any:
    """A plain threaded HTTP server over the same store (websockets cannot read request bodies)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: Any) -> None:
            pass

        def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, e: ApiError) -> None:
            self._send(e.code, jsonutil.dumps(e.status))

        def _body(self) -> Any:
            return jsonutil.loads(self.raw) if self.raw else None

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

        def _handle(self, method: str) -> None:
            s.requests.append((method, self.path))
            n = int(self.headers.get("Content-Length") or 0)
            self.raw = self.rfile.read(n) if n else b""
            try:
                route(self, method)
            except ApiError as e:
                self._error(e)

    def route(h: Any, method: str) -> None:
        u = urlsplit(h.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        parts = [p for p in u.path.split("/") if p]
        if parts in (["version"],):
            h._send(
                200,
                jsonutil.dumps(
                    {"major": "1", "minor": "33", "gitVersion": "v1.33.0-standin", "platform": "linux/amd64"}
                ),
            )
            return
        if parts in (["readyz"], ["healthz"]):
            h._send(200, b"ok", "text/plain")
            return
        if parts[:2] != ["api", "v1"]:
            raise not_found("paths", u.path)
        rest = parts[2:]
        ns = ""
        if rest[:1] == ["namespaces"] and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        plural, name, sub = rest[0], rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None
        res = by_plural("", plural)
        if res is None:
            raise not_found(plural, name or "")
        if res.kind == "Namespace" and name is None and ns == "" and len(parts) > 3:
            pass
        table = s.tables and "as=Table" in (h.headers.get("Accept") or "")
        if name is None:
            if method == "GET" and q.get("watch") == "true":
                watch(h, plural, ns, q, table)
                return
            if method == "GET":
                items = [
                    copy.deepcopy(o)
                    for (p, n, _), o in sorted(s.objects.items())
                    if p == plural and (not ns or n == ns) and _match(o, q)
                ]
                h._send(200, jsonutil.dumps(_listing(res, items, table)))
                return
            if method == "POST":
                obj = h._body()
                meta = obj.setdefault("metadata", {})
                if meta.get("generateName") and not meta.get("name"):
                    meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
                _validate(res.kind, obj)
                if (plural, ns, meta["name"]) in s.objects:
                    raise already_exists(plural, meta["name"])
                if q.get("dryRun"):
                    h._send(201, jsonutil.dumps(obj))
                    return
                h._send(201, jsonutil.dumps(s.put(plural, obj, ns)))
                return
        key = (plural, ns, name or "")
        cur = s.objects.get(key)
        if sub in ("exec", "attach"):
            if cur is None:
                raise not_found(plural, name or "")
            exec_ws(h, parse_qs(u.query))
            return
        if sub == "log":
            if cur is None:
                raise not_found(plural, name or "")
            text = s.logs.get(name or "", "")
            if q.get("tailLines"):
                text = "".join(text.splitlines(keepends=True)[-int(q["tailLines"]) :])
            h._send(200, text.encode(), "text/plain")
            return
        if cur is None and not (
            method == "PATCH" and h.headers.get("Content-Type") == "application/apply-patch+yaml"
        ):
            raise not_found(plural, name or "")
        if sub == "scale":
            assert cur is not None
            if method in ("PATCH", "PUT"):
                body = h._body()
                cur = copy.deepcopy(cur)
                cur["spec"]["replicas"] = body["spec"]["replicas"]
                s._commit("MODIFIED", plural, ns, cur)
            h._send(
                200,
                jsonutil.dumps(
                    {
                        "kind": "Scale",
                        "apiVersion": "autoscaling/v1",
                        "metadata": {
                            "name": name,
                            "namespace": ns,
                            "resourceVersion": cur["metadata"]["resourceVersion"],
                        },
                        "spec": {"replicas": cur["spec"].get("replicas", 1)},
                        "status": {"replicas": (cur.get("status") or {}).get("replicas", 0)},
                    }
                ),
            )
            return
        if method == "GET":
            h._send(200, jsonutil.dumps(_listing(res, [copy.deepcopy(cur or {})], True) if table else cur))
        elif method == "DELETE":
            assert cur is not None
            s._commit("DELETED", plural, ns, copy.deepcopy(cur))
            h._send(200, jsonutil.dumps(cur))
        elif method == "PUT":
            obj = h._body()
            _validate(res.kind, obj)
            h._send(200, jsonutil.dumps(s._commit("MODIFIED", plural, ns, obj)))
        elif method == "PATCH":
            ctype = h.headers.get("Content-Type")
            body = h._body()
            if cur is None:
                h._send(201, jsonutil.dumps(s.put(plural, body, ns)))
                return
            if ctype == "application/json-patch+json":
                new = json_patch(copy.deepcopy(cur), body)  # the server's own, as the real one answers
            elif ctype == "application/merge-patch+json":
                new = merge_patch(copy.deepcopy(cur), body)
            else:
                new = strategic_merge(copy.deepcopy(cur), body, PathShape())
            _validate(res.kind, new)
            if not q.get("dryRun"):
                s._commit("MODIFIED", plural, ns, new)
            h._send(200, jsonutil.dumps(new))

    def exec_ws(h: Any, query: dict[str, list[str]]) -> None:
        import base64
        import hashlib

        if (h.headers.get("Upgrade") or "").lower() != "websocket":
            raise ApiError(400, "BadRequest", "Upgrade request required")
        if s.exec_refusal is not None:
            raise s.exec_refusal
        protos = [p.strip() for p in (h.headers.get("Sec-WebSocket-Protocol") or "").split(",")]
        if "v5.channel.k8s.io" not in protos:
            raise ApiError(400, "BadRequest", "no supported subprotocol")
        accept = base64.b64encode(
            hashlib.sha1(
                (h.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()
            ).digest()
        ).decode()
        h.send_response(101)
        h.send_header("Upgrade", "websocket")
        h.send_header("Connection", "Upgrade")
        h.send_header("Sec-WebSocket-Accept", accept)
        h.send_header("Sec-WebSocket-Protocol", "v5.channel.k8s.io")
        h.end_headers()
        h.wfile.flush()
        ws = WebSocket(h.rfile, h.wfile)
        try:
            if s.exec_handler is not None:
                s.exec_handler(ws, query)
        finally:
            ws.close()
            h.close_connection = True

    def watch(h: Any, plural: str, ns: str, q: dict[str, str], table: bool) -> None:
        res = by_plural("", plural)
        assert res is not None
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        since = int(q.get("resourceVersion") or 0)
        timeout = float(q.get("timeoutSeconds") or 30)
        import time

        deadline = time.monotonic() + timeout
        if not since:
            for (p, n, _), o in sorted(s.objects.items()):
                if p == plural and (not ns or n == ns) and _match(o, q):
                    _chunk(h, {"type": "ADDED", "object": _listing(res, [o], True) if table else o})
            since = s.rv
        try:
            while time.monotonic() < deadline:
                with s.cond:
                    pending = [e for e in s.events if e[0] > since]
                    if not pending:
                        s.cond.wait(min(0.5, deadline - time.monotonic()))
                        continue
                for rv, kind, p, n, o in pending:
                    since = rv
                    if p == plural and (not ns or n == ns) and _match(o, q):
                        _chunk(h, {"type": kind, "object": _listing(res, [o], True) if table else o})
            h.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def _chunk(h: Any, ev: Obj) -> None:
    data = jsonutil.dumps(ev) + b"\n"
    h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    h.wfile.flush()


def _match(o: Obj, q: dict[str, str]) -> bool:
    labels = (o.get("metadata") or {}).get("labels")
    return parse_label_selector(q.get("labelSelector")).matches(labels) and parse_field_selector(
        q.get("fieldSelector")
    ).matches(o)


def _listing(res: Any, items: list[Obj], table: bool) -> Obj:
    if not table:
        return {
            "kind": res.list_kind,
            "apiVersion": "v1",
            "metadata": {"resourceVersion": "1"},
            "items": items,
        }
    return to_table(res, items, "1")  # the server's own Table


def _validate(kind: str, obj: Obj) -> None:
    name = (obj.get("metadata") or {}).get("name") or ""
    if kind == "Pod":
        causes = []
        for i, c in enumerate((obj.get("spec") or {}).get("containers") or []):
            if not c.get("image"):
                causes.append(field_required(f"spec.containers[{i}].image"))
        if not (obj.get("spec") or {}).get("containers"):
            causes.append(field_required("spec.containers"))
        if causes:
            raise invalid("Pod", name, causes)

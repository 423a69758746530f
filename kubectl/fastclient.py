"""The client kubectl's one-shot verbs use: `api.requests` over a keep-alive socket, no http.client.

`kubectl get pods` is held to twice the real kubectl's wall time, and importing `http.client`
(which pulls in the `email` package) is a quarter of our budget. So plain request/response
calls go out as HTTP/1.1 written and parsed here (Content-Length or chunked bodies), built by
the same `api.requests` functions and decoded into the same `ApiError`s as `api.client`;
streams (watch, `logs -f`) are long-lived, so they are handed to `api.client.Client`, whose
import cost no longer matters there. Same method names as `api.client.Client`.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from api import jsonutil
from api import requests as rq
from api.config import ClientConfig
from api.errors import ApiError


class ConnectionFailed(Exception):
    """The server could not be reached (refused, DNS, TLS): one clear line for the user."""


class _Closed(Exception):
    """The kept-alive connection was closed by the server before answering."""


def decode(status: int, content_type: str, body: bytes) -> Any:
    if status >= 400:
        try:
            parsed: Any = jsonutil.loads(body) if body else ""
        except jsonutil.JSONDecodeError:
            parsed = body.decode(errors="replace")
        raise ApiError.from_status(status, parsed)
    if content_type.startswith("text/"):
        return body.decode(errors="replace")
    return jsonutil.loads(body) if body else None


class FastClient:
    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        u = urlsplit(config.server)
        self._https = u.scheme == "https"
        self._host = u.hostname or "localhost"
        self._port = u.port or (443 if self._https else 80)
        self._prefix = u.path.rstrip("/")
        self._sock: Any = None
        self._file: Any = None
        self._streams: Any = None

    # --- connection ----------------------------------------------------------------------
    def _connect(self) -> None:
        try:
            sock = socket.create_connection((self._host, self._port), timeout=self.config.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._https:
                ctx = self.config.ssl_context()
                assert ctx is not None
                sock = ctx.wrap_socket(sock, server_hostname=self._host)
        except ssl.SSLCertVerificationError as e:
            raise ConnectionFailed(
                f"Unable to connect to the server: tls: failed to verify certificate: {e.verify_message}") from e
        except OSError as e:
            raise ConnectionFailed(f"Unable to connect to the server: {self._host}:{self._port}: {e}") from e
        self._sock = sock
        self._file = sock.makefile("rb")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._file = None
        if self._streams is not None:
            self._streams.close()

    def __enter__(self) -> FastClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- one request ---------------------------------------------------------------------
    def _head(self, req: rq.Request) -> bytes:
        host = f"[{self._host}]" if ":" in self._host else self._host
        lines = [f"{req.method} {self._prefix}{req.target} HTTP/1.1", f"Host: {host}:{self._port}",
                 f"Accept: {req.accept}", f"User-Agent: {self.config.user_agent}", "Accept-Encoding: identity"]
        if self.config.token:
            lines.append(f"Authorization: Bearer {self.config.token}")
        if req.content_type:
            lines.append(f"Content-Type: {req.content_type}")
        if req.body is not None or req.method in ("POST", "PUT", "PATCH", "DELETE"):
            lines.append(f"Content-Length: {len(req.body or b'')}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _exchange(self, req: rq.Request) -> tuple[int, str, bytes]:
        self._sock.sendall(self._head(req) + (req.body or b""))
        f = self._file
        status_line = f.readline(65537)
        if not status_line:
            raise _Closed
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ConnectionFailed(f"Unable to connect to the server: malformed HTTP response {status_line[:80]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        while True:
            line = f.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        if status in (204, 304) or status < 200:
            body = b""
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(f.readline(65537).split(b";", 1)[0], 16)
                if size == 0:
                    while f.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(f.read(size))
                f.readline(3)
            body = b"".join(chunks)
        elif "content-length" in headers:
            body = f.read(int(headers["content-length"]))
        else:
            body = f.read()
            self.close()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers.get("content-type", ""), body

    def call(self, req: rq.Request) -> Any:
        """Send a request on the kept-alive connection (reconnecting once if the server closed it)."""
        for attempt in (0, 1):
            fresh = self._sock is None
            if fresh:
                self._connect()
            try:
                status, ctype, body = self._exchange(req)
                break
            except (_Closed, BrokenPipeError, ConnectionResetError) as e:
                self.close()
                if fresh or attempt:
                    raise ConnectionFailed(f"Unable to connect to the server: {self._host}:{self._port}: "
                                           f"connection closed") from e
            except TimeoutError as e:
                self.close()
                raise ConnectionFailed(f"Unable to connect to the server: {self._host}:{self._port}: "
                                       "net/http: request canceled (Client.Timeout exceeded)") from e
            except OSError as e:
                self.close()
                raise ConnectionFailed(f"Unable to connect to the server: {self._host}:{self._port}: {e}") from e
        return decode(status, ctype, body)

    def stream(self, req: rq.Request, idle_timeout: float | None = None) -> Iterator[bytes]:
        """Long-lived streams go through api.client (its import cost does not matter there)."""
        if self._streams is None:
            from api.client import Client

            self._streams = Client(self.config)
        return self._streams.stream(req, idle_timeout)

    # verbs: as api.client.Client
    def get(self, r: Any, name: str, namespace: str | None = None, subresource: str | None = None) -> Any:
        return self.call(rq.get(r, name, namespace, subresource))

    def list(self, r: Any, namespace: str | None = None, **kw: Any) -> Any:
        return self.call(rq.list_(r, namespace, **kw))

    def create(self, r: Any, obj: dict[str, Any], namespace: str | None = None, **kw: Any) -> Any:
        return self.call(rq.create(r, obj, namespace, **kw))

    def update(self, r: Any, obj: dict[str, Any], namespace: str | None = None, **kw: Any) -> Any:
        return self.call(rq.update(r, obj, namespace, **kw))

    def patch(self, r: Any, name: str, body: Any, content_type: str = rq.MERGE_PATCH,
              namespace: str | None = None, **kw: Any) -> Any:
        return self.call(rq.patch(r, name, body, content_type, namespace, **kw))

    def delete(self, r: Any, name: str, namespace: str | None = None, **kw: Any) -> Any:
        return self.call(rq.delete(r, name, namespace, **kw))

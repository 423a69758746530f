"""The synchronous API client, on a plain socket: for CLIs, where start-up time is the product.

kubectl's budget is the real kubectl's wall time x2, and importing `http.client` (which pulls in
the `email` package) would cost a quarter of it, httpx five times that. So requests go out as
HTTP/1.1 written here (`request_head`, shared with the async client) and answers are parsed
here: Content-Length or chunked bodies, keep-alive unless `Connection: close`. One kept-alive
connection per client; `call()` sends any `api.requests.Request` and returns the decoded JSON or
raises `ApiError`; `stream()` yields the lines of a watch or a followed log on a connection of
its own. The verb methods are one-line delegations to `api.requests`, so paths and parameters
live in one place for both clients. With `ClientConfig.fallback_servers`, a server that cannot be
reached hands over to the next one (kubectl against several API servers of one cluster).
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterator
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from api import jsonutil
from api import requests as rq
from api.config import ClientConfig
from api.errors import ApiError

CONNECT_TIMEOUT = 5.0
REPLAYABLE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
"""Methods sent again when a kept-alive connection dies before the answer (Go's isReplayable):
a write may have been applied by a server that died under it."""
MAX_LINE = 1 << 20  # a header or chunk-size line longer than this is not HTTP from our server


class ConnectionFailed(Exception):
    """The server could not be reached (refused, DNS, TLS): one clear line for the user."""


def decode_error(status: int, content_type: str, body: bytes) -> ApiError:
    try:
        parsed: Any = jsonutil.loads(body) if body else ""
    except jsonutil.JSONDecodeError:
        parsed = body.decode(errors="replace")
    return ApiError.from_status(status, parsed)


def decode(status: int, content_type: str, body: bytes) -> Any:
    """The JSON answer of a 2xx, text for text/plain; ApiError otherwise."""
    if status >= 400:
        raise decode_error(status, content_type, body)
    if content_type.startswith("text/"):
        return body.decode(errors="replace")
    return jsonutil.loads(body) if body else None


def request_head(cfg: ClientConfig, req: rq.Request, host: str, port: int, prefix: str = "") -> bytes:
    """The request line and headers of `req`, as both clients send them."""
    shown = f"[{host}]" if ":" in host else host
    lines = [
        f"{req.method} {prefix}{req.target} HTTP/1.1",
        f"Host: {shown}:{port}",
        "Accept-Encoding: identity",
    ]
    lines += [f"{k}: {v}" for k, v in headers_for(cfg, req).items()]
    lines += [f"{k}: {v}" for k, v in cfg.repeated_headers]
    if req.body is not None or req.method in ("POST", "PUT", "PATCH", "DELETE"):
        lines.append(f"Content-Length: {len(req.body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def headers_for(cfg: ClientConfig, req: rq.Request) -> dict[str, str]:
    h = {"Accept": req.accept, "User-Agent": cfg.user_agent, **cfg.extra_headers}
    if cfg.token:
        h["Authorization"] = f"Bearer {cfg.token}"
    if req.content_type:
        h["Content-Type"] = req.content_type
    return h


class _Closed(Exception):
    """The kept-alive connection was closed by the server before answering."""


def read_head(f: BinaryIO) -> tuple[int, dict[str, str]]:
    status_line = f.readline(MAX_LINE)
    if not status_line:
        raise _Closed
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise ConnectionFailed(
            f"Unable to connect to the server: malformed HTTP response {status_line[:80]!r}"
        )
    headers: dict[str, str] = {}
    while True:
        line = f.readline(MAX_LINE)
        if line in (b"\r\n", b"\n", b""):
            break
        k, _, v = line.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(parts[1]), headers


def read_chunk(f: BinaryIO) -> bytes:
    """One chunk of a chunked body; b"" at the end (trailers consumed)."""
    size = int(f.readline(MAX_LINE).split(b";", 1)[0].strip() or b"0", 16)
    if size == 0:
        while f.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
            pass
        return b""
    data = f.read(size)
    f.readline(3)
    return data


class Client:
    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.servers = config.all_servers()
        self._use(config.server)
        self._ssl: ssl.SSLContext | None = None
        self._sock: socket.socket | None = None
        self._file: BinaryIO | None = None

    def _use(self, server: str) -> None:
        u = urlsplit(server)
        self.server = server
        self._https = u.scheme == "https"
        self._host = u.hostname or "localhost"
        self._port = u.port or (443 if self._https else 80)
        self._prefix = u.path.rstrip("/")

    def _open(self, timeout: float | None) -> tuple[socket.socket, BinaryIO]:
        """A connection to the current server, else to the next one that answers (failover)."""
        start = self.servers.index(self.server) if self.server in self.servers else 0
        first: ConnectionFailed | None = None
        for i in range(len(self.servers)):
            self._use(self.servers[(start + i) % len(self.servers)])
            try:
                return self._connect(timeout)
            except ConnectionFailed as e:
                if isinstance(e.__cause__, ssl.SSLCertVerificationError):
                    raise  # a server that is not ours: never send the credentials elsewhere silently
                first = first or e
        assert first is not None
        raise first

    def _connect(self, timeout: float | None) -> tuple[socket.socket, BinaryIO]:
        # with other servers to try, a host that vanished must not stall the CLI: connect within 5 s
        connect = timeout if len(self.servers) == 1 else min(timeout or CONNECT_TIMEOUT, CONNECT_TIMEOUT)
        try:
            sock = socket.create_connection((self._host, self._port), timeout=connect)
            sock.settimeout(timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._https:
                if self._ssl is None:
                    self._ssl = self.config.ssl_context()
                assert self._ssl is not None
                sock = self._ssl.wrap_socket(sock, server_hostname=self._host)
        except ssl.SSLCertVerificationError as e:
            raise ConnectionFailed(
                f"Unable to connect to the server: tls: failed to verify certificate: {e.verify_message}"
            ) from e
        except OSError as e:
            raise ConnectionFailed(f"Unable to connect to the server: {self._host}:{self._port}: {e}") from e
        return sock, sock.makefile("rb")

    def _head(self, req: rq.Request) -> bytes:
        return request_head(self.config, req, self._host, self._port, self._prefix) + (req.body or b"")

    def _exchange(self, req: rq.Request) -> tuple[int, str, bytes]:
        assert self._sock is not None and self._file is not None
        self._sock.sendall(self._head(req))
        f = self._file
        status, headers = read_head(f)
        if status in (204, 304) or status < 200:
            body = b""
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while chunk := read_chunk(f):
                chunks.append(chunk)
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
        """Send a request on the kept-alive connection (reconnecting once if the server closed it:
        before sending, or for a read, after)."""
        for attempt in (0, 1):
            if self._sock is not None and select.select([self._sock], [], [], 0)[0]:
                self.close()  # the server hung up (or babbled) while it idled: nothing sent yet
            fresh = self._sock is None
            if fresh:
                self._sock, self._file = self._open(self.config.timeout)
            try:
                status, ctype, body = self._exchange(req)
                break
            except (_Closed, BrokenPipeError, ConnectionResetError) as e:
                self.close()
                if fresh or attempt or req.method not in REPLAYABLE:
                    raise ConnectionFailed(
                        f"Unable to connect to the server: {self._host}:{self._port}: connection closed"
                    ) from e
            except TimeoutError as e:
                self.close()
                raise ConnectionFailed(
                    f"Unable to connect to the server: {self._host}:{self._port}: "
                    "net/http: request canceled (Client.Timeout exceeded)"
                ) from e
            except OSError as e:
                self.close()
                raise ConnectionFailed(
                    f"Unable to connect to the server: {self._host}:{self._port}: {e}"
                ) from e
        return decode(status, ctype, body)

    def stream(self, req: rq.Request, idle_timeout: float | None = None) -> Iterator[bytes]:
        """Lines of a streamed answer (watch events, a followed log), on a connection of its own.

        idle_timeout ends the stream when nothing arrives for that long; the config's timeout (kubectl's
        --request-timeout) ends it at that deadline however much arrives, as Go's Client.Timeout does."""
        import time

        deadline = time.monotonic() + self.config.timeout if self.config.timeout else None
        sock, f = self._open(idle_timeout)
        try:
            sock.sendall(self._head(req))
            try:
                status, headers = read_head(f)
            except _Closed as e:
                raise ConnectionFailed(
                    f"Unable to connect to the server: {self._host}:{self._port}: connection closed"
                ) from e
            chunked = headers.get("transfer-encoding", "").lower() == "chunked"
            if status >= 400:
                data = (
                    b"".join(iter(lambda: read_chunk(f), b""))
                    if chunked
                    else f.read(int(headers.get("content-length", "0")))
                )
                raise decode_error(status, headers.get("content-type", ""), data)
            remaining = int(headers["content-length"]) if "content-length" in headers and not chunked else -1
            buf = b""
            while remaining != 0:
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    sock.settimeout(min(left, idle_timeout) if idle_timeout else left)
                try:
                    data = (
                        read_chunk(f)
                        if chunked
                        else f.read1(65536 if remaining < 0 else min(remaining, 65536))  # type: ignore[attr-defined]
                    )
                except (TimeoutError, OSError, ValueError):
                    break
                if not data:
                    break
                if remaining > 0:
                    remaining -= len(data)
                buf += data
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    yield line + b"\n"
            if buf:
                yield buf
        finally:
            f.close()
            sock.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._file = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # verbs: one line each, the request is built by api.requests
    def get(self, r: Any, name: str, namespace: str | None = None, subresource: str | None = None) -> Any:
        return self.call(rq.get(r, name, namespace, subresource))

    def list(self, r: Any, namespace: str | None = None, **kw: Any) -> Any:
        return self.call(rq.list_(r, namespace, **kw))

    def create(self, r: Any, obj: dict[str, Any], namespace: str | None = None, **kw: Any) -> Any:
        return self.call(rq.create(r, obj, namespace, **kw))

    def update(self, r: Any, obj: dict[str, Any], namespace: str | None = None, **kw: Any) -> Any:
        return self.call(rq.update(r, obj, namespace, **kw))

    def patch(
        self,
        r: Any,
        name: str,
        body: Any,
        content_type: str = rq.MERGE_PATCH,
        namespace: str | None = None,
        **kw: Any,
    ) -> Any:
        return self.call(rq.patch(r, name, body, content_type, namespace, **kw))

    def delete(self, r: Any, name: str, namespace: str | None = None, **kw: Any) -> Any:
        return self.call(rq.delete(r, name, namespace, **kw))

    def watch(self, r: Any, namespace: str | None = None, **kw: Any) -> Iterator[dict[str, Any]]:
        """Watch events as dicts {"type", "object"}; ends when the server closes the stream."""
        for line in self.stream(rq.watch(r, namespace, **kw)):
            if line.strip():
                yield jsonutil.loads(line)

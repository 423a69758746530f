"""The asynchronous API client: lean HTTP/1.1 on asyncio streams, for the long-running components.

Controllers, the scheduler and kubelets keep many requests in flight and several watches open.

Measured on this machine, httpx spends ~0.6 ms of CPU per request (request models, the
connection pool's bookkeeping, anyio wrappers); the controller manager and the scheduler
make two requests per pod, so at 500 pods/s httpx alone would need a core. This client sends
the same `api.requests.Request`s, decodes with the same `api.client.decode`, and keeps a
LIFO pool of keep-alive connections (`api.connpool`, which clients of one process may share):
~0.1 ms per request. It understands exactly what the
API server answers: Content-Length or chunked bodies, keep-alive unless `Connection: close`.
A request that finds its reused connection closed by the server (idle timeout) before any
byte of the answer arrived is sent once more on a fresh connection if it is a read (GET, HEAD):
a write may have been applied by a server that died before answering, and sending it again
could create a generateName object twice, so it fails (Go's Transport and client-go do the
same); the pool drops connections the server already closed before anything is sent on them.
A server URL `http+unix://<percent-encoded socket path>` talks plain HTTP over that Unix socket:
the API server's own control loops use its private one, which spares both ends the TLS.
With `ClientConfig.fallback_servers` (several API servers on one datastore), a connection that
cannot be opened moves the client to the next server that answers, and it stays there.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

from api import jsonutil
from api import requests as rq
from api.client import REPLAYABLE, decode, decode_error, request_head
from api.config import ClientConfig
from api.connpool import Conn, ConnectionPool


class StaleConnection(Exception):
    """A reused connection was closed before the answer started."""


async def read_head(c: Conn, reused: bool) -> tuple[int, dict[str, str]]:
    """The status and headers, taken from the stream as one block: an await per header line
    was a third of the client's Python time per request. `StaleConnection` when a reused connection
    turns out closed before any byte of the answer (the caller may try a fresh one)."""
    try:
        head = await c.reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if reused and not e.partial:  # closed while idle: the caller tries a fresh connection
            raise StaleConnection() from e
        raise ConnectionError("server closed the connection") from e
    except (ConnectionError, ssl.SSLError) as e:
        if reused:
            raise StaleConnection() from e
        raise
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    status = int(status_line.split(None, 2)[1])
    headers: dict[str, str] = {}
    for line in lines:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers


async def read_chunk(c: Conn) -> bytes:
    size_line = await c.reader.readline()
    size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
    if size == 0:
        while (await c.reader.readline()) not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b""
    return (await c.reader.readexactly(size + 2))[:-2]  # the chunk and its CRLF


async def read_body(c: Conn, headers: dict[str, str], status: int = 200) -> tuple[bytes, bool]:
    """The body, and whether the connection may be reused."""
    keep = headers.get("connection", "").lower() != "close"
    if status in (204, 304) or status < 200:
        return b"", keep
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while chunk := await read_chunk(c):
            parts.append(chunk)
        return b"".join(parts), keep
    if "content-length" in headers:
        return await c.reader.readexactly(int(headers["content-length"])), keep
    return await c.reader.read(), False


class AsyncClient:
    def __init__(
        self, config: ClientConfig, max_connections: int = 32, pool: ConnectionPool | None = None
    ) -> None:
        """`pool`: connections shared with other clients of this process (else a pool of its own)."""
        self.config = config
        self._owns_pool = pool is None
        self.pool = pool or ConnectionPool(config, max_connections)
        self._timeout = config.timeout or 60.0

    @property
    def servers(self) -> list[str]:
        return self.pool.servers

    @property
    def server(self) -> str:
        return self.pool.server

    def _head(self, req: rq.Request) -> bytes:
        p = self.pool
        return request_head(self.config, req, p.host, p.port, p.prefix)

    async def call(self, req: rq.Request) -> Any:
        pool = self.pool
        async with pool.slots:
            for _ in range(2):
                c = pool.take()
                reused = c is not None
                if c is None:
                    c = await pool.open()
                try:
                    async with asyncio.timeout(self._timeout):
                        c.writer.write(self._head(req) + (req.body or b""))
                        status, headers = await read_head(c, reused)
                        body, keep = await read_body(c, headers, status)
                except StaleConnection as e:
                    c.close()
                    pool.drop_idle()  # the others are as old: a restarted or dead server closed them all
                    if req.method not in REPLAYABLE:
                        raise ConnectionError(  # (the pool may have moved on: no server named)
                            f"the server closed the connection without answering {req.method} "
                            "(not sent again: it may have been applied)"
                        ) from e
                    continue
                except BaseException:
                    c.close()
                    raise
                if keep:
                    pool.give_back(c)
                else:
                    c.close()
                return decode(status, headers.get("content-type", ""), body)
        raise ConnectionError(f"{pool.host}:{pool.port} keeps closing connections")

    async def stream(self, req: rq.Request) -> AsyncIterator[bytes]:
        """Lines of a streamed answer, on a connection of its own (a watch may last minutes)."""
        c = await self.pool.open()
        try:
            c.writer.write(self._head(req) + (req.body or b""))
            status, headers = await read_head(c, False)
            if status >= 400:
                body, _ = await read_body(c, headers, status)
                raise decode_error(status, headers.get("content-type", ""), body)
            chunked = headers.get("transfer-encoding", "").lower() == "chunked"
            buf = b""
            while True:
                data = await read_chunk(c) if chunked else await c.reader.read(65536)
                if not data:
                    break
                buf += data
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield line
            if buf.strip():
                yield buf
        finally:
            c.close()

    async def aclose(self) -> None:
        if self._owns_pool:  # a shared pool is closed by whoever made it
            self.pool.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # verbs: one line each, the request is built by api.requests (as for the sync client)
    async def get(
        self, r: Any, name: str, namespace: str | None = None, subresource: str | None = None
    ) -> Any:
        return await self.call(rq.get(r, name, namespace, subresource))

    async def list(self, r: Any, namespace: str | None = None, **kw: Any) -> Any:
        return await self.call(rq.list_(r, namespace, **kw))

    async def create(self, r: Any, obj: dict[str, Any], namespace: str | None = None, **kw: Any) -> Any:
        return await self.call(rq.create(r, obj, namespace, **kw))

    async def update(self, r: Any, obj: dict[str, Any], namespace: str | None = None, **kw: Any) -> Any:
        return await self.call(rq.update(r, obj, namespace, **kw))

    async def patch(
        self,
        r: Any,
        name: str,
        body: Any,
        content_type: str = rq.MERGE_PATCH,
        namespace: str | None = None,
        **kw: Any,
    ) -> Any:
        return await self.call(rq.patch(r, name, body, content_type, namespace, **kw))

    async def delete(self, r: Any, name: str, namespace: str | None = None, **kw: Any) -> Any:
        return await self.call(rq.delete(r, name, namespace, **kw))

    async def watch(self, r: Any, namespace: str | None = None, **kw: Any) -> AsyncIterator[dict[str, Any]]:
        async for line in self.stream(rq.watch(r, namespace, **kw)):
            yield jsonutil.loads(line)

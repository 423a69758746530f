"""The async client's keep-alive connections to the API servers, in a pool several clients may share.

A connection carries no identity of its own when the credential is a header (bearer token, node
name): the hollow agent runs hundreds of kubelets in one process, and with a pool each (32
connections at most, each opened with a TLS handshake) a burst of pods had the agent open
thousands of connections, the handshakes costing both ends more than the requests, until the
server's accept queue overflowed. Clients built on one `ConnectionPool` take turns on the same
connections, as one process's client-go transports share one HTTP/2 connection per server.
Idle connections are reused newest first (LIFO), so the ones the server will time out go unused;
`servers` is the failover list: a connection that cannot be opened moves the pool (every client
on it) to the next server that answers, and it stays there.
A connection remembers the TLS context it was opened with: once `ssl` is replaced (the kubelet's
client certificate rotated, kubelet/bootstrap.py) a connection of the old one is closed when it
is next given back or taken, never reused, so every later request presents the new certificate
(kube's kubelet closes all its connections on rotation for the same reason: the API server checks
the client certificate's validity on every request, and the old one expires).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from urllib.parse import unquote, urlsplit

from api.config import ClientConfig

IDLE_MAX = 30.0  # seconds; the server closes idle keep-alive connections after 60
CONNECT_TIMEOUT = 5.0  # with other servers to try: a host that vanished must not stall the client


class Conn:
    __slots__ = ("reader", "tls", "used", "writer")

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tls: ssl.SSLContext | None = None
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.tls = tls  # the context it was opened with: a replaced one retires it
        self.used = time.monotonic()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class ConnectionPool:
    """Connections to the current server of `config.all_servers()`; `slots` bounds those in use."""

    def __init__(self, config: ClientConfig, max_connections: int = 32) -> None:
        self.servers = config.all_servers()
        self.use(config.server)
        self.ssl: ssl.SSLContext | None = config.ssl_context() if self.tls else None
        self.slots = asyncio.Semaphore(max_connections)
        self.closed = False
        self._idle: list[Conn] = []

    def use(self, server: str) -> None:
        u = urlsplit(server)
        self.server = server
        self.tls = u.scheme == "https"
        self.unix = unquote(u.netloc) if u.scheme == "http+unix" else None
        self.host = "localhost" if self.unix else (u.hostname or "localhost")
        self.port = 80 if self.unix else (u.port or (443 if self.tls else 80))
        self.prefix = u.path.rstrip("/")

    def take(self) -> Conn | None:
        """The newest idle connection still fit for reuse (older unfit ones are closed), or None."""
        while self._idle:
            c = self._idle.pop()
            if time.monotonic() - c.used < IDLE_MAX and not c.reader.at_eof() and c.tls is self.ssl:
                return c
            c.close()
        return None

    def give_back(self, c: Conn) -> None:
        if self.closed or c.tls is not self.ssl:  # closed, or opened with a credential since replaced
            c.close()
        else:
            c.used = time.monotonic()
            self._idle.append(c)

    async def _connect(self) -> Conn:
        if self.unix is not None:
            r, w = await asyncio.open_unix_connection(self.unix, limit=1 << 22)
            return Conn(r, w)
        async with asyncio.timeout(CONNECT_TIMEOUT if len(self.servers) > 1 else None):
            r, w = await asyncio.open_connection(
                self.host,
                self.port,
                ssl=self.ssl,
                server_hostname=self.host if self.tls else None,
                limit=1 << 22,
            )
        return Conn(r, w, self.ssl)

    async def open(self) -> Conn:
        """A new connection to the current server, else to the next one that answers (failover)."""
        start = self.servers.index(self.server) if self.server in self.servers else 0
        first: OSError | None = None
        for i in range(len(self.servers)):
            server = self.servers[(start + i) % len(self.servers)]
            if server != self.server:
                self.drop_idle()  # kept-alive connections belong to the server being left
                self.use(server)
            try:
                return await self._connect()
            except OSError as e:  # refused, unreachable, timed out (TimeoutError is an OSError)
                first = first or e
        assert first is not None
        raise first

    def drop_idle(self) -> None:
        while self._idle:
            self._idle.pop().close()

    def close(self) -> None:
        self.closed = True
        self.drop_idle()

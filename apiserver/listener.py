"""The API server's listening socket: every pending connection accepted at each loop turn.

libuv, under uvloop, accepts ONE connection per loop iteration (since libuv 1.45, PR 3696:
the next one is left to level-triggered polling). That is right for an idle server and wrong
for a busy one: under a burst an iteration of the API server's loop takes 20-50 ms, so new
connections were accepted at 20-50 a second. When 500 kubelets opened connections at the
start of a 15,000-pod scale-up, the accept queue (`ss -ltn` Recv-Q) grew past 300 and any new
client, a watch made again included, waited up to 5.5 s before its TLS handshake began, while
requests on open connections were answered in under 0.2 s (measured with strace: one accept4
per iteration, never an EAGAIN). kube-apiserver has a goroutine that does nothing but accept.

Here the socket is ours: a reader callback accepts until the queue is empty (at most
`max_per_turn`, so one turn stays short), and hands each connection to the loop with
`connect_accepted_socket`, with the protocol and TLS context uvicorn would have used. The
handshake then runs on the loop like any other I/O. `close`/`wait_closed` make it one of
uvicorn's `servers`, so its shutdown stops accepting as before.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from collections.abc import Callable

log = logging.getLogger("kubelite.server")

HANDSHAKE_TIMEOUT = 60.0  # asyncio's default for a TLS handshake


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """A non-blocking TCP socket listening on host:port (IPv6 for a host with a colon)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=backlog)
    sock.setblocking(False)
    return sock


class GreedyListener:
    def __init__(
        self,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        tls: ssl.SSLContext | None,
        max_per_turn: int = 256,
    ) -> None:
        self.sockets = [sock]
        self._sock = sock
        self._factory = protocol_factory
        self._tls = tls
        self._max_per_turn = max_per_turn
        self._loop = asyncio.get_running_loop()
        self._opening: set[asyncio.Task[None]] = set()
        self._closed = False
        self.accepted = 0
        self._loop.add_reader(sock.fileno(), self._accept_pending)

    def _accept_pending(self) -> None:
        for _ in range(self._max_per_turn):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno == errno.ECONNABORTED:
                    continue
                # out of descriptors or buffers: what is queued waits for the next turn
                log.warning("accept failed: %s", e)
                return
            conn.setblocking(False)
            self.accepted += 1
            task = self._loop.create_task(self._open(conn))
            self._opening.add(task)
            task.add_done_callback(self._opening.discard)

    async def _open(self, conn: socket.socket) -> None:
        kw = {"ssl": self._tls, "ssl_handshake_timeout": HANDSHAKE_TIMEOUT} if self._tls else {}
        try:
            await self._loop.connect_accepted_socket(self._factory, conn, **kw)  # type: ignore[arg-type]
        except OSError as e:  # SSLError, ConnectionError and TimeoutError among them
            # a client that went away or spoke no TLS: the transport closed the socket
            log.debug("connection not opened: %s", e)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()
        for task in list(self._opening):  # handshakes not finished: no request was made on them
            task.cancel()

    async def wait_closed(self) -> None:
        if self._opening:
            await asyncio.gather(*self._opening, return_exceptions=True)

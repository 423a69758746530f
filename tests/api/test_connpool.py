"""Clients sharing one ConnectionPool take turns on the same kept-alive connections, each request
still carrying its own client's headers (the hollow agent's many nodes in one process)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import ssl

from api.aclient import AsyncClient
from api.config import ClientConfig
from api.connpool import ConnectionPool

NAMESPACES = "namespaces"


class Recorder:
    """A keep-alive HTTP server that answers with the User-Agent it got, counting connections."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while (await r.readline()).strip():
                agent = ""
                while line := (await r.readline()).strip():
                    k, _, v = line.decode().partition(":")
                    if k.lower() == "user-agent":
                        agent = v.strip()
                body = json.dumps({"agent": agent}).encode()
                w.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                await w.drain()
        except ConnectionError:
            pass
        finally:
            w.close()


async def _shared_pool() -> None:
    srv = Recorder()
    await srv.start()
    base = ClientConfig(server=f"http://127.0.0.1:{srv.port}")
    pool = ConnectionPool(base, max_connections=2)
    clients = [AsyncClient(dataclasses.replace(base, user_agent=f"node-{i}"), pool=pool) for i in range(5)]
    for _ in range(3):  # one after the other: one connection serves them all
        for i, c in enumerate(clients):
            assert (await c.get(NAMESPACES, "x"))["agent"] == f"node-{i}"
    assert srv.connections == 1
    got = await asyncio.gather(*(c.get(NAMESPACES, "x") for c in clients for _ in range(4)))
    assert len(got) == 20 and srv.connections <= 2  # at most max_connections, shared by all
    for c in clients:
        await c.aclose()  # a client does not close the pool it was given
    assert (await clients[0].get(NAMESPACES, "x"))["agent"] == "node-0" and srv.connections <= 2
    pool.close()
    own = AsyncClient(base)
    await own.get(NAMESPACES, "x")
    assert srv.connections == 3  # a client without a pool has its own
    await own.aclose()
    assert own.pool.closed
    assert srv.server is not None
    srv.server.close()


def test_clients_share_one_pool() -> None:
    asyncio.run(_shared_pool())


async def _retired_after_a_new_credential() -> None:
    srv = Recorder()
    await srv.start()
    pool = ConnectionPool(ClientConfig(server=f"http://127.0.0.1:{srv.port}"))
    idle, busy = await pool.open(), await pool.open()
    pool.give_back(idle)
    # the client certificate rotated (kubelet/bootstrap.py `use`): the pool's TLS context replaced
    pool.ssl = ssl.create_default_context()
    assert pool.take() is None and idle.writer.is_closing()  # an idle one of the old is not reused
    pool.give_back(busy)  # nor one that was in use at the time, once it comes back
    assert busy.writer.is_closing() and pool.take() is None
    assert srv.server is not None
    srv.server.close()


def test_connections_of_a_replaced_credential_are_not_reused() -> None:
    asyncio.run(_retired_after_a_new_credential())

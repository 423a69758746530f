"""The dashboard's way to the API: `api.aclient` with the viewer's token, one pool per viewer.

Each call made for a viewer carries the token its browser presented, so the API server
authenticates it and RBAC decides, as for kubectl; the one exception is the shared watches of
hub.py, opened with the server's own token for kinds the viewer was admitted to.
In `kubelite server` the base config points at the server's private Unix socket (plain HTTP,
same token authentication), elsewhere at its HTTPS URL with the cluster CA.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from api import requests as rq
from api.aclient import AsyncClient
from api.config import ClientConfig

MAX_VIEWERS = 64  # keep-alive pools kept; the least recently used one is closed beyond this


class ApiUpstream:
    """`relay.Upstream` over `AsyncClient`: calls share a keep-alive pool per token; each stream
    (a watch, a followed log) has a connection of its own, closed when the browser leaves."""

    def __init__(self, base: ClientConfig) -> None:
        self.base = base
        self._clients: OrderedDict[str, AsyncClient] = OrderedDict()

    async def _client(self, token: str) -> AsyncClient:
        key = hashlib.sha256(token.encode()).hexdigest()  # tokens are not kept as dict keys
        client = self._clients.pop(key, None)
        if client is None:
            cfg = dataclasses.replace(self.base, token=token, user_agent="kubelite-dashboard")
            client = AsyncClient(cfg, max_connections=8)
        self._clients[key] = client
        while len(self._clients) > MAX_VIEWERS:
            _, old = self._clients.popitem(last=False)
            await old.aclose()  # its idle connections; streams in flight keep their own
        return client

    async def call(self, token: str, req: rq.Request) -> Any:
        return await (await self._client(token)).call(req)

    async def stream(self, token: str, req: rq.Request) -> AsyncIterator[bytes]:
        async for line in (await self._client(token)).stream(req):
            yield line

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

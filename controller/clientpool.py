"""Several small httpx clients behind one `ApiClient`, for the high-rate paths.

httpcore's pool re-examines every connection (a poll(2) per idle one) each time a request
starts or ends, so one client with 50 connections spends more CPU choosing a connection than
sending the request. K clients of a few connections each, used round-robin, keep the same
concurrency at a fraction of the cost. Watches get a client of their own so long-lived
streams never take a connection a write is waiting for.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

from api.config import ClientConfig


class ClientPool:
    def __init__(self, config: ClientConfig, clients: int = 8, connections_each: int = 4,
                 watch_connections: int = 32) -> None:
        from api.aclient import AsyncClient  # httpx only on this path

        self.config = config
        self._clients = [AsyncClient(config, max_connections=connections_each) for _ in range(clients)]
        self._watch = AsyncClient(config, max_connections=watch_connections)
        self._next = itertools.cycle(self._clients)

    def _pick(self) -> Any:
        return next(self._next)

    async def get(self, r: Any, name: str, namespace: str | None = None, subresource: str | None = None) -> Any:
        return await self._pick().get(r, name, namespace, subresource)

    async def list(self, r: Any, namespace: str | None = None, **kw: Any) -> Any:
        return await self._watch.list(r, namespace, **kw)

    async def create(self, r: Any, obj: dict[str, Any], namespace: str | None = None, **kw: Any) -> Any:
        return await self._pick().create(r, obj, namespace, **kw)

    async def update(self, r: Any, obj: dict[str, Any], namespace: str | None = None, **kw: Any) -> Any:
        return await self._pick().update(r, obj, namespace, **kw)

    async def patch(self, r: Any, name: str, body: Any, content_type: str = "application/merge-patch+json",
                    namespace: str | None = None, **kw: Any) -> Any:
        return await self._pick().patch(r, name, body, content_type, namespace, **kw)

    async def delete(self, r: Any, name: str, namespace: str | None = None, **kw: Any) -> Any:
        return await self._pick().delete(r, name, namespace, **kw)

    def watch(self, r: Any, namespace: str | None = None, **kw: Any) -> AsyncIterator[dict[str, Any]]:
        return self._watch.watch(r, namespace, **kw)

    async def aclose(self) -> None:
        for c in [*self._clients, self._watch]:
            await c.aclose()

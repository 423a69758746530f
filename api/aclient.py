"""The asynchronous API client on httpx: for the long-running components.

Controllers, the scheduler and kubelets keep many requests in flight and several watches
open, so they use httpx's pooled async client. Requests come from `api.requests` and answers
are decoded by `api.client.decode`, exactly as for the sync client; only the I/O differs.
httpx is imported here and nowhere on the CLI paths.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from api import jsonutil
from api import requests as rq
from api.client import decode, decode_error, headers_for
from api.config import ClientConfig


class AsyncClient:
    def __init__(self, config: ClientConfig, max_connections: int = 100,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        ctx = config.ssl_context()
        self._http = httpx.AsyncClient(
            base_url=config.server,
            verify=ctx if ctx is not None else True,
            timeout=httpx.Timeout(config.timeout or 60.0),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
        )

    async def call(self, req: rq.Request) -> Any:
        resp = await self._http.request(req.method, req.target, content=req.body,
                                        headers=headers_for(self.config, req))
        return decode(resp.status_code, resp.headers.get("content-type", ""), resp.content)

    async def stream(self, req: rq.Request) -> AsyncIterator[bytes]:
        """Lines of a streamed answer; no read timeout (a watch may be quiet for minutes)."""
        async with self._http.stream(req.method, req.target, content=req.body,
                                     headers=headers_for(self.config, req),
                                     timeout=httpx.Timeout(None, connect=10.0)) as resp:
            if resp.status_code >= 400:
                body = await resp.aread()
                raise decode_error(resp.status_code, resp.headers.get("content-type", ""), body)
            async for line in resp.aiter_lines():
                if line:
                    yield line.encode()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # verbs: one line each, the request is built by api.requests
    async def get(self, r: Any, name: str, namespace: str | None = None, subresource: str | None = None) -> Any:
        return await self.call(rq.get(r, name, namespace, subresource))

    async def list(self, r: Any, namespace: str | None = None, **kw: Any) -> Any:
        return await self.call(rq.list_(r, namespace, **kw))

    async def create(self, r: Any, obj: dict[str, Any], namespace: str | None = None, **kw: Any) -> Any:
        return await self.call(rq.create(r, obj, namespace, **kw))

    async def update(self, r: Any, obj: dict[str, Any], namespace: str | None = None, **kw: Any) -> Any:
        return await self.call(rq.update(r, obj, namespace, **kw))

    async def patch(self, r: Any, name: str, body: Any, content_type: str = rq.MERGE_PATCH,
                    namespace: str | None = None, **kw: Any) -> Any:
        return await self.call(rq.patch(r, name, body, content_type, namespace, **kw))

    async def delete(self, r: Any, name: str, namespace: str | None = None, **kw: Any) -> Any:
        return await self.call(rq.delete(r, name, namespace, **kw))

    async def watch(self, r: Any, namespace: str | None = None, **kw: Any) -> AsyncIterator[dict[str, Any]]:
        """Watch events as dicts {"type", "object"}; ends when the server closes the stream."""
        async for line in self.stream(rq.watch(r, namespace, **kw)):
            yield jsonutil.loads(line)

"""The client seam: what controllers, the scheduler and kubelets need from the API client.

`api.aclient.AsyncClient` satisfies it; unit tests pass a fake with the same verbs. It lives in
`api` (not in `controller`) so that kubelets and controllers type their clients the same way
without importing each other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol


class ApiClient(Protocol):
    """The verbs of `AsyncClient` (see `api.requests` for the keyword arguments each takes)."""

    async def get(
        self, r: Any, name: str, namespace: str | None = None, subresource: str | None = None
    ) -> Any: ...

    async def list(self, r: Any, namespace: str | None = None, **kw: Any) -> Any: ...

    async def create(self, r: Any, obj: dict[str, Any], namespace: str | None = None, **kw: Any) -> Any: ...

    async def update(self, r: Any, obj: dict[str, Any], namespace: str | None = None, **kw: Any) -> Any: ...

    async def patch(
        self, r: Any, name: str, body: Any, content_type: str = ..., namespace: str | None = None, **kw: Any
    ) -> Any: ...

    async def delete(self, r: Any, name: str, namespace: str | None = None, **kw: Any) -> Any: ...

    def watch(self, r: Any, namespace: str | None = None, **kw: Any) -> AsyncIterator[dict[str, Any]]: ...

"""The dashboard as an ASGI app for `kubelite server` to mount under /dashboard on its own port.

FastAPI and pydantic cost about a quarter of a second to import: the app is built on the first
request under /dashboard, so a server nobody opens the dashboard of never pays for it.
"""

from __future__ import annotations

from typing import Any

from api.config import ClientConfig

PREFIX = "/dashboard"


class LazyDashboard:
    """ASGI: builds `dashboard.app.create_app` over the API at `base` on first use."""

    def __init__(self, base: ClientConfig) -> None:
        self.base = base
        self._app: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self._app is None:
            from dashboard.app import create_app
            from dashboard.upstream import ApiUpstream

            self._app = create_app(ApiUpstream(self.base), service_token=self.base.token or "")
        await self._app(scope, receive, send)


def mount(base: ClientConfig) -> LazyDashboard:
    """The `apiserver.serve.MountFactory` of the dashboard: `base` reaches the API; its token
    (the server's own) makes the shared watches, every other call carries the viewer's token."""
    return LazyDashboard(base)

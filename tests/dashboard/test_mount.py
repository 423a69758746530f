"""The dashboard on the API server's port: `PrefixMounts` hands /dashboard and what is under it to
the dashboard, everything else (even a path that only starts with the same letters) to the API."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.serve import PrefixMounts

anyio = pytest.mark.anyio


class Recorder:
    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.paths.append(scope["path"])


@anyio
async def test_paths_under_the_prefix_go_to_the_mount_and_the_rest_to_the_api() -> None:
    api, dashboard = Recorder(), Recorder()
    app = PrefixMounts(api, {"/dashboard/": dashboard})
    for path in ("/dashboard", "/dashboard/", "/dashboard/api/stream", "/dashboards", "/api/v1/pods", "/"):
        await app({"type": "http", "path": path}, None, None)
    assert dashboard.paths == ["/dashboard", "/dashboard/", "/dashboard/api/stream"]
    assert api.paths == ["/dashboards", "/api/v1/pods", "/"]


@anyio
async def test_each_viewer_reaches_the_api_with_its_own_token_in_a_pool_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from api.config import ClientConfig
    from dashboard import upstream

    monkeypatch.setattr(upstream, "MAX_VIEWERS", 2)
    up = upstream.ApiUpstream(ClientConfig(server="https://127.0.0.1:1", token="the-servers-own"))
    alice = await up._client("alice")
    assert alice.config.token == "alice" and alice.config.user_agent == "kubelite-dashboard"
    assert await up._client("alice") is alice  # kept alive between a viewer's calls
    bob = await up._client("bob")
    await up._client("carol")  # a third viewer: the least recently used pool (alice's) is closed
    assert await up._client("bob") is bob and await up._client("alice") is not alice
    assert up.base.token == "the-servers-own"  # never handed to a viewer's client
    await up.aclose()

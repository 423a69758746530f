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

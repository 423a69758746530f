"""Async tests here run on asyncio through anyio's pytest plugin (no extra dependency); `cluster`
is a real `kubelite server` whose nodes and kubelets the test plays (tests.controller.cluster)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.controller.cluster import Cluster


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    c = await Cluster().start()
    try:
        yield c
    finally:
        await c.close()

"""The dashboard's async tests run on asyncio through anyio's pytest plugin (as tests/api's do)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

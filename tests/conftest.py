"""Fixtures every test package shares: async tests (`pytest.mark.anyio`) run on asyncio only."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

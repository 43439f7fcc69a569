"""Fixtures of every test directory: real servers (tests/support/live_server.py) and the anyio plugin's backend.

Async tests run through anyio's pytest plugin (`anyio_mode = "auto"` in pyproject.toml) on asyncio, the loop the
websockets client needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from live_server import LiveServer, launcher, server_settings


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def server_overrides() -> dict[str, Any]:
    """Settings a test directory gives all its servers (over `server_settings`); none here."""
    return {}


@pytest.fixture
def launch(tmp_path: Path, server_overrides: dict[str, Any]) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with the test settings plus overrides; all are stopped at the end of the test."""
    yield from launcher(lambda **overrides: server_settings(tmp_path, **{**server_overrides, **overrides}))


@pytest.fixture
def live(launch: Callable[..., LiveServer]) -> LiveServer:
    return launch()

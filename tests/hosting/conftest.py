"""Fixtures for the hosting tests: real uvicorn servers (tests/support/live_server.py) with hosting settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hosting_server import hosting_settings
from live_server import LiveServer, launcher


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with hosting settings plus overrides; all are stopped at the end of the test."""
    yield from launcher(lambda **overrides: hosting_settings(tmp_path, **overrides))

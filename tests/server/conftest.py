"""Fixtures of the server tests: real uvicorn servers with the settings of server_setup.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from live_server import LiveServer, launcher
from server_setup import make_settings


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with test settings plus overrides; all are stopped at the end of the test."""
    yield from launcher(lambda **overrides: make_settings(tmp_path, **overrides))


@pytest.fixture
def live(launch: Callable[..., LiveServer]) -> LiveServer:
    return launch()

"""Fixtures for the hosting tests: real uvicorn servers (hosting_server.py) stopped at the end of each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hosting_server import Served, hosting_settings, serve


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start servers with hosting settings plus overrides; all are stopped at the end of the test."""
    started: list[Served] = []

    def run(**overrides: Any) -> Served:
        served = serve(hosting_settings(tmp_path, **overrides))
        started.append(served)
        return served

    yield run
    for served in started:
        if served.thread.is_alive():
            served.stop()

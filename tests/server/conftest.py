"""The live-session tests' servers: short chunks, a 512-point limit and a generous message rate, so every
scenario takes about a second."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def server_overrides() -> dict[str, Any]:
    return {"chunk_ms": 20.0, "max_points": 512, "max_messages_per_second": 400}

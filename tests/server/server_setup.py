"""Settings of the server tests: small limits and quick convergence, so every scenario takes about a second."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rftoy.settings import Settings

# Small nets and scenes keep every scenario to about a second on a shared 2-core machine.
SMALL_NET = {"width": 16, "depth": 2}


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "device": "cpu", "database": tmp_path / "scenes.sqlite3",
                              "chunk_ms": 20.0, "converge_window": 20, "converge_tol": 0.02, "train_workers": 2,
                              "max_points": 512, "max_messages_per_second": 400}
    return Settings(**{**values, **overrides})

"""Settings of the hosting tests: a public server's defaults with a private database and a quick trainer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rftoy.settings import Settings


def hosting_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Defaults of a public server, with a private database, the CPU, and a small, quick-converging trainer."""
    values: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "device": "cpu", "database": tmp_path / "scenes.sqlite3",
                              "train_workers": 2, "converge_window": 20, "converge_tol": 0.02}
    return Settings(**{**values, **overrides})

"""Saved scenes behind share links: JSON data in one SQLite table (never pickled objects)."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS scenes (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    body TEXT NOT NULL
)
"""


class SceneStore:
    """Scenes as {"scene": points scene, "config": whole config} JSON, keyed by a random url-safe id."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if self.path.parent != Path():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        with self._lock, self._db:
            self._db.execute(SCHEMA)

    def save(self, body: dict[str, Any]) -> str:
        text = json.dumps(body, separators=(",", ":"), allow_nan=False)
        with self._lock, self._db:
            while True:
                scene_id = secrets.token_urlsafe(8)
                try:
                    self._db.execute("INSERT INTO scenes (id, created, body) VALUES (?, ?, ?)",
                                     (scene_id, time.time(), text))
                    return scene_id
                except sqlite3.IntegrityError:
                    continue

    def load(self, scene_id: str) -> dict[str, Any] | None:
        """The saved body with its id and creation time, or None."""
        with self._lock:
            row = self._db.execute("SELECT created, body FROM scenes WHERE id = ?", (scene_id,)).fetchone()
        if row is None:
            return None
        return {"id": scene_id, "created": row[0], **json.loads(row[1])}

    def close(self) -> None:
        with self._lock:
            self._db.close()

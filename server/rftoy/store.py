"""Saved scenes behind share links: JSON data in one SQLite table (never pickled objects), pruned by count and age."""

from __future__ import annotations

import json
import math
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
);
CREATE INDEX IF NOT EXISTS scenes_created ON scenes (created)
"""


class SceneStore:
    """Scenes as {"scene": points scene, "config": whole config} JSON, keyed by a random url-safe id.

    At most `max_scenes` are kept (each save prunes the oldest beyond it); with `max_age_s`, older ones expire:
    they are pruned on open and on save, and never loaded.
    """

    def __init__(self, path: Path | str, max_scenes: int | None = None, max_age_s: float | None = None) -> None:
        self.path = Path(path)
        self.max_scenes = max_scenes
        self.max_age_s = max_age_s
        if self.path.parent != Path():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        with self._lock, self._db:
            self._db.executescript(SCHEMA)
            self._prune()

    @staticmethod
    def encode(body: dict[str, Any]) -> str:
        """The stored text of a body (its size is what the scene-size limit counts)."""
        return json.dumps(body, separators=(",", ":"), allow_nan=False)

    def save(self, body: dict[str, Any] | str) -> str:
        text = body if isinstance(body, str) else self.encode(body)
        with self._lock, self._db:
            while True:
                scene_id = secrets.token_urlsafe(8)
                try:
                    self._db.execute("INSERT INTO scenes (id, created, body) VALUES (?, ?, ?)",
                                     (scene_id, time.time(), text))
                    break
                except sqlite3.IntegrityError:
                    continue
            self._prune()
        return scene_id

    def load(self, scene_id: str) -> dict[str, Any] | None:
        """The saved body with its id and creation time, or None (also when it has expired)."""
        with self._lock:
            row = self._db.execute("SELECT created, body FROM scenes WHERE id = ? AND created >= ?",
                                   (scene_id, self._oldest_allowed())).fetchone()
        if row is None:
            return None
        return {"id": scene_id, "created": row[0], **json.loads(row[1])}

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM scenes").fetchone()[0]

    def _oldest_allowed(self) -> float:
        return time.time() - self.max_age_s if self.max_age_s else -math.inf

    def _prune(self) -> None:
        """Drop expired scenes, then the oldest beyond `max_scenes` (called with the lock and a transaction)."""
        self._db.execute("DELETE FROM scenes WHERE created < ?", (self._oldest_allowed(),))
        if self.max_scenes is not None:
            self._db.execute("DELETE FROM scenes WHERE id IN (SELECT id FROM scenes ORDER BY created DESC, rowid DESC "
                             "LIMIT -1 OFFSET ?)", (self.max_scenes,))

    def close(self) -> None:
        with self._lock:
            self._db.close()

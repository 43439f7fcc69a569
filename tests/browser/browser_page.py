"""A Playwright page that records console errors, waits for the toy's first snapshot and saves screenshots; the
server it talks to is `rftoy serve` in a subprocess (tests/support/served_process.py, `serve` re-exported here for
the browser tests that start servers of their own)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page
from served_process import serve

__all__ = ["ARTIFACTS", "PageWatch", "serve"]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class PageWatch:
    """A page plus the console errors and page errors it produced."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, url: str) -> None:
        """Load `url` and wait for the first snapshot."""
        self.page.goto(url)
        self.page.wait_for_function("window.rftoy && window.rftoy.summary.snapshots > 0", timeout=20_000)

    def summary(self) -> dict:
        return self.page.evaluate("window.rftoy.summary")

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

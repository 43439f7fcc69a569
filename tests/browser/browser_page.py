"""The real server in a subprocess, and a Playwright page that records console errors, waits for the toy's first
snapshot and saves screenshots."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Page

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(base: str, process: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}; its stderr:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/api/health", timeout=1) as response:
                if json.load(response)["status"] == "ok":
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server at {base} did not become healthy in {timeout} s; its stderr:\n{log.read_text()}")


def serve(folder: Path, **env: str) -> Iterator[str]:
    """`rftoy serve` on a free port with its own database in `folder` (stderr to a file there, read on failure,
    so the server never blocks on a full pipe); yields the base URL. `env`: extra RFTOY_ settings."""
    port = free_port()
    env = {**os.environ, "RFTOY_DATABASE": str(folder / "scenes.sqlite3"), "RFTOY_DEVICE": "cpu",
           "RFTOY_TORCH_THREADS": "1", **env}
    log = folder / "server-stderr.txt"
    with log.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "rftoy.cli", "serve", "--port", str(port)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()

"""Fixtures for the browser tests: the real server in a subprocess and headless Chromium through Playwright."""

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

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

from browser_page import PageWatch  # noqa: E402  (after the skip: it needs playwright)

CHROMIUM = Path(os.environ.get("RFTOY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (set RFTOY_CHROMIUM)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(base: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/api/health", timeout=1) as response:
                if json.load(response)["status"] == "ok":
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server at {base} did not become healthy in {timeout} s")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`rftoy serve` on a free port with its own database; yields the base URL."""
    port = free_port()
    env = {**os.environ, "RFTOY_DATABASE": str(tmp_path_factory.mktemp("db") / "scenes.sqlite3"),
           "RFTOY_DEVICE": "cpu", "RFTOY_TORCH_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "rftoy.cli", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def playwright() -> Iterator[playwright_api.Playwright]:
    """Module-scoped: Playwright's sync API keeps an event loop running on the main thread while it lives, and
    the server tests' own asyncio.run() calls must not meet it."""
    runner = playwright_api.sync_playwright().start()
    yield runner
    runner.stop()


def launch(playwright: playwright_api.Playwright, webgpu: bool) -> playwright_api.Browser:
    args = CHROMIUM_ARGS + (["--enable-unsafe-webgpu"] if webgpu else [])
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)


@pytest.fixture(scope="module")
def browser_js(playwright: playwright_api.Playwright) -> Iterator[playwright_api.Browser]:
    """Chromium without WebGPU: the page runs its JS fallback."""
    browser = launch(playwright, webgpu=False)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def browser_gpu(playwright: playwright_api.Playwright) -> Iterator[playwright_api.Browser]:
    """Chromium with WebGPU on SwiftShader."""
    browser = launch(playwright, webgpu=True)
    yield browser
    browser.close()


@pytest.fixture
def js_page(browser_js: playwright_api.Browser) -> Iterator[PageWatch]:
    context = browser_js.new_context(viewport={"width": 1280, "height": 900})
    yield PageWatch(context.new_page())
    context.close()


@pytest.fixture
def gpu_page(browser_gpu: playwright_api.Browser) -> Iterator[PageWatch]:
    context = browser_gpu.new_context(viewport={"width": 1280, "height": 900})
    yield PageWatch(context.new_page())
    context.close()

"""Fixtures for the browser tests: the real server in a subprocess and headless Chromium through Playwright."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chromium_launch import CHROMIUM, CHROMIUM_ARGS
from served_process import serve

playwright_api = pytest.importorskip("playwright.sync_api")

from browser_page import PageWatch  # noqa: E402  (after the skip: it needs playwright)

if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (set RFTOY_CHROMIUM)", allow_module_level=True)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server with its default settings; yields the base URL."""
    yield from serve(tmp_path_factory.mktemp("server"))


@pytest.fixture(scope="module")
def playwright() -> Iterator[playwright_api.Playwright]:
    """Module-scoped: Playwright's sync API keeps an event loop running on the main thread while it lives, and
    the async tests' event loops (anyio's plugin) must not meet it."""
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


def returning_visitor(context: playwright_api.BrowserContext) -> playwright_api.BrowserContext:
    """A visitor who has dismissed the first-visit introduction (web/intro.js), so the canvas sits where a
    returning visitor sees it; tests/browser/test_lesson.py covers the introduction itself."""
    context.add_init_script("localStorage.setItem('rftoy.intro.dismissed', '1')")
    return context


@pytest.fixture
def js_page(browser_js: playwright_api.Browser) -> Iterator[PageWatch]:
    context = returning_visitor(browser_js.new_context(viewport={"width": 1280, "height": 900}))
    yield PageWatch(context.new_page())
    context.close()


@pytest.fixture
def gpu_page(browser_gpu: playwright_api.Browser) -> Iterator[PageWatch]:
    context = returning_visitor(browser_gpu.new_context(viewport={"width": 1280, "height": 900}))
    yield PageWatch(context.new_page())
    context.close()

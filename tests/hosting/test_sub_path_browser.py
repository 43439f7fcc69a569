"""The page under a sub-path in real Chromium: it loads, connects through `<sub-path>/ws` and draws snapshots."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chromium_launch import CHROMIUM, CHROMIUM_ARGS

playwright_api = pytest.importorskip("playwright.sync_api")


if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (set RFTOY_CHROMIUM)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[playwright_api.Browser]:
    """Module-scoped Playwright (its sync API keeps an event loop on the main thread while it lives)."""
    runner = playwright_api.sync_playwright().start()
    browser = runner.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    runner.stop()


def test_the_page_works_under_demo(browser: playwright_api.Browser, launch) -> None:
    served = launch(root_path="/demo")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    requested: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requested.append(r.url))
    page.on("websocket", lambda ws: requested.append(ws.url))
    page.goto(served.http_url + "/demo?backend=js")
    # an event, not a time: 60 s leaves room for a loaded machine (a full run once took 21 s here, alone 7 s)
    page.wait_for_function("window.rftoy && window.rftoy.summary.ready && window.rftoy.summary.snapshots >= 3",
                           timeout=60_000)
    assert page.url == served.http_url + "/demo/?backend=js"
    summary = page.evaluate("window.rftoy.summary")
    assert summary["backend"] == "js" and summary["errors"] == [] and errors == []
    assert f"ws://127.0.0.1:{served.port}/demo/ws" in requested
    assert f"{served.http_url}/demo/api/health" in requested
    ours = (f"{served.http_url}/demo/", f"ws://127.0.0.1:{served.port}/demo/")
    outside = [url for url in requested if not url.startswith(ours) and not url.startswith("data:")]
    assert outside == [f"{served.http_url}/demo?backend=js"], f"requests outside the sub-path: {outside}"
    assert served.get("/demo/api/metrics").json()["sessions"] == 1
    page.close()
    served.assert_healthy()

"""The page in real Chromium against the real server: loading, dragging, reflow, share links, touch and undo."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_page import PageWatch, serve
from playwright.sync_api import Browser, Page

DRAG_DEADLINE_MS = 2000


def drag(page: Page, cloud: str, index: int, dx: float, dy: float) -> dict:
    """Press on a sample, move it by (dx, dy) CSS pixels and keep holding; returns where it started."""
    start = page.evaluate("([c, i]) => window.rftoy.pointOnPage(c, i)", [cloud, index])
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    page.mouse.move(start["x"] + dx, start["y"] + dy, steps=6)
    return start


def wait_trajectory_starts_at(page: Page, index: int, point: list[float], timeout: float) -> None:
    """Until the drawn trajectory of sample `index` starts at `point` (the server has traced the moved x0)."""
    page.wait_for_function(
        """([i, p]) => {
            const path = window.rftoy.trajectory(i);
            return path !== null && Math.hypot(path[0][0] - p[0], path[0][1] - p[1]) < 1e-3;
        }""",
        arg=[index, point], timeout=timeout)


def test_page_loads_and_draws_without_console_errors(js_page: PageWatch, server: str) -> None:
    js_page.open(server)
    js_page.page.wait_for_function("window.rftoy.trajectory(0) !== null && window.rftoy.summary.crossing !== null")
    summary = js_page.summary()
    assert summary["backend"] == "js"
    assert summary["n"] == summary["settings"]["n"] == 64
    assert js_page.page.locator("#notice").is_visible(), "the JS fallback must say so on the page"
    assert "WebGPU" in js_page.page.locator("#notice").inner_text()
    js_page.screenshot("01-loaded-js-fallback")
    assert js_page.errors == []


def test_drag_moves_the_trajectory_and_undo_restores(js_page: PageWatch, server: str) -> None:
    js_page.open(server)
    page = js_page.page
    page.wait_for_function("window.rftoy.trajectory(5) !== null")
    before = page.evaluate("window.rftoy.points().x0[5]")
    old_path = page.evaluate("window.rftoy.trajectory(5)")
    drag(page, "x0", 5, 60, -40)
    moved = page.evaluate("window.rftoy.points().x0[5]")
    assert moved != before
    started = time.monotonic()
    wait_trajectory_starts_at(page, 5, moved, DRAG_DEADLINE_MS)
    elapsed = time.monotonic() - started
    js_page.screenshot("02-dragging-noise-point")
    page.mouse.up()
    new_path = page.evaluate("window.rftoy.trajectory(5)")
    assert new_path != old_path
    assert elapsed < DRAG_DEADLINE_MS / 1000
    assert page.evaluate("window.rftoy.summary.latency.count") >= 1

    page.keyboard.press("Control+z")
    assert page.evaluate("window.rftoy.points().x0[5]") == before
    wait_trajectory_starts_at(page, 5, before, 5000)
    assert page.evaluate("window.rftoy.summary.redo") == 1
    page.keyboard.press("Control+Shift+z")
    assert page.evaluate("window.rftoy.points().x0[5]") != before

    n = page.evaluate("window.rftoy.summary.n")
    page.locator("#scene").click(position={"x": 40, "y": 40}, modifiers=["Shift"])
    page.wait_for_function(f"window.rftoy.summary.n === {n + 1} && window.rftoy.trajectory({n}) !== null")
    added = page.evaluate(f"window.rftoy.pointOnPage('x1', {n})")
    page.mouse.dblclick(added["x"], added["y"])
    page.wait_for_function(f"window.rftoy.summary.n === {n} && window.rftoy.trajectory(0) !== null")
    assert js_page.errors == []


def test_reflow_lowers_the_crossing_shown(js_page: PageWatch, server: str) -> None:
    js_page.open(server)
    page = js_page.page
    page.wait_for_function("window.rftoy.summary.crossings[0] !== null")
    page.click("#reflow")
    page.wait_for_function("window.rftoy.summary.round === 1 && window.rftoy.summary.crossings[1] !== null",
                           timeout=20_000)
    summary = js_page.summary()
    random, crossings = summary["randomCrossing"], summary["crossings"]
    assert random > crossings[0] and random > crossings[1], summary
    shown = {key: float(page.locator(f'td[data-crossing="{key}"]').inner_text()) for key in ("random", "0", "1")}
    assert shown["random"] > shown["0"] and shown["random"] > shown["1"], shown
    assert abs(shown["random"] - 100 * random) <= 0.05 + 1e-9 and abs(shown["0"] - 100 * crossings[0]) <= 0.05 + 1e-9
    assert page.locator("#rounds button").all_inner_texts() == ["random", "1-RF", "2-RF"]
    page.wait_for_function("window.rftoy.trajectory(0) !== null")
    js_page.screenshot("03-after-reflow")
    assert js_page.errors == []


def share(page: Page) -> tuple[str, dict, dict]:
    """Click Copy link; returns the link, the points and the settings it should restore."""
    previous = page.evaluate("window.rftoy.summary.sharedUrl")
    page.click("#share")
    page.wait_for_function("(old) => window.rftoy.summary.sharedUrl !== old", arg=previous, timeout=10_000)
    return (page.evaluate("window.rftoy.summary.sharedUrl"), page.evaluate("window.rftoy.points()"),
            page.evaluate("window.rftoy.summary.settings"))


def assert_restores(page: PageWatch, url: str, points: dict, settings: dict) -> None:
    page.open(url)
    page.page.wait_for_function("window.rftoy.trajectory(0) !== null")
    restored = page.page.evaluate("window.rftoy.points()")
    assert page.summary()["settings"] == settings
    for cloud in ("x0", "x1"):
        assert len(restored[cloud]) == len(points[cloud])
        for a, b in zip(restored[cloud], points[cloud], strict=True):
            assert abs(a[0] - b[0]) < 1e-4 and abs(a[1] - b[1]) < 1e-4


def test_share_links_restore_points_and_settings(browser_js: Browser, js_page: PageWatch, server: str) -> None:
    js_page.open(server)
    page = js_page.page
    page.select_option("#solver", "euler")
    page.fill("#steps", "8")
    page.press("#steps", "Enter")
    page.select_option("#field", "streamlines")
    page.wait_for_function("window.rftoy.trajectory(2) !== null")
    drag(page, "x1", 2, -50, 30)
    page.mouse.up()
    small = share(page)
    assert "#s=" in small[0], "a small edited scene travels in the link itself"

    page.fill("#n", "300")
    page.press("#n", "Enter")
    page.wait_for_function("window.rftoy.summary.n === 300 && window.rftoy.trajectory(3) !== null")
    drag(page, "x0", 3, 40, 40)
    page.mouse.up()
    large = share(page)
    assert "?scene=" in large[0], "a large edited scene is stored on the server"

    context = browser_js.new_context(viewport={"width": 1280, "height": 900})
    try:
        fresh = PageWatch(context.new_page())
        assert_restores(fresh, *small)
        assert fresh.page.locator("#field").input_value() == "streamlines"
        fresh.screenshot("04-restored-from-link")
        assert_restores(fresh, *large)
        assert fresh.errors == []
    finally:
        context.close()


def test_touch_drag_moves_a_point(browser_js: Browser, server: str) -> None:
    context = browser_js.new_context(viewport={"width": 412, "height": 860}, has_touch=True, is_mobile=True,
                                     device_scale_factor=2)
    try:
        watch = PageWatch(context.new_page())
        watch.open(server)
        page = watch.page
        page.wait_for_function("window.rftoy.trajectory(7) !== null")
        before = page.evaluate("window.rftoy.points().x1[7]")
        start = page.evaluate("window.rftoy.pointOnPage('x1', 7)")
        cdp = context.new_cdp_session(page)
        x, y = start["x"], start["y"]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
        for k in range(1, 7):
            touch = {"x": x - 5 * k, "y": y + 6 * k}
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [touch]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        after = page.evaluate("window.rftoy.points().x1[7]")
        assert after != before
        page.wait_for_function("window.rftoy.summary.appliedSeq !== null && "
                               "window.rftoy.summary.appliedSeq >= window.rftoy.summary.sentSeq")
        assert page.evaluate("window.rftoy.summary.undo") == 1
        watch.screenshot("05-touch-phone")
        assert watch.errors == []
    finally:
        context.close()


def test_undo_of_a_removal_restores_the_pair_in_place(js_page: PageWatch, server: str) -> None:
    """Move pair 5, remove pair 2, undo twice: pair 2 is back at index 2 and pair 5 where it was (page and server)."""
    js_page.open(server)
    page = js_page.page
    page.wait_for_function("window.rftoy.trajectory(5) !== null")
    original = page.evaluate("window.rftoy.points()")
    n = len(original["x0"])
    drag(page, "x0", 5, 60, -40)
    page.mouse.up()
    assert page.evaluate("window.rftoy.points().x0[5]") != original["x0"][5]
    removed = page.evaluate("window.rftoy.pointOnPage('x1', 2)")
    page.mouse.dblclick(removed["x"], removed["y"])
    page.wait_for_function(f"window.rftoy.summary.n === {n - 1}")
    assert page.evaluate("window.rftoy.points().x1[2]") == original["x1"][3], "pair 2 was the one removed"
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    assert page.evaluate("window.rftoy.points()") == original
    page.wait_for_function("window.rftoy.summary.appliedSeq !== null && "
                           "window.rftoy.summary.appliedSeq >= window.rftoy.summary.sentSeq", timeout=10_000)
    wait_trajectory_starts_at(page, 2, original["x0"][2], 10_000)
    wait_trajectory_starts_at(page, 5, original["x0"][5], 10_000)
    assert js_page.errors == []


def test_a_setting_being_typed_survives_a_change_to_another(js_page: PageWatch, server: str) -> None:
    """Changing one setting rewrites the controls; a box the user is still typing in keeps what they typed (a
    loaded CI machine once lost a typed width that way), and takes effect when committed."""
    js_page.open(server)
    page = js_page.page
    page.wait_for_function("window.rftoy.trajectory(0) !== null")
    page.fill("#steps", "20")  # focused, not yet committed
    page.evaluate("() => { const depth = document.getElementById('depth'); depth.value = '2'; "
                  "depth.dispatchEvent(new Event('change')); }")
    assert page.input_value("#steps") == "20" and page.input_value("#depth") == "2"
    page.press("#steps", "Enter")
    page.wait_for_function("window.rftoy.trajectory(0) !== null && window.rftoy.trajectory(0).length === 21")
    assert js_page.errors == []


def test_a_server_that_fails_to_start_shows_its_stderr(tmp_path: Path) -> None:
    """The fixture's server writes stderr to a file (a pipe nobody reads could block it) and reports it."""
    with pytest.raises(RuntimeError, match="max_points"):
        next(serve(tmp_path, RFTOY_MAX_POINTS="-1"))


@pytest.fixture(scope="module")
def tight_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose cost limit is exactly one snapshot of the page's default scene (64 points, midpoint × 16
    steps, 8706 weights): one pair more is refused."""
    yield from serve(tmp_path_factory.mktemp("tight"), RFTOY_MAX_TRACE_WORK=str(64 * 32 * 8706))


def test_a_refused_add_is_taken_back_on_the_page(js_page: PageWatch, tight_server: str) -> None:
    js_page.open(tight_server)
    page = js_page.page
    page.wait_for_function("window.rftoy.trajectory(0) !== null")
    original = page.evaluate("window.rftoy.points()")
    page.locator("#scene").click(position={"x": 40, "y": 40}, modifiers=["Shift"])
    page.wait_for_function("window.rftoy.summary.errors.some((e) => e.includes('one snapshot would take'))")
    page.wait_for_function("window.rftoy.summary.n === 64")
    assert page.evaluate("window.rftoy.points()") == original
    assert page.evaluate("window.rftoy.summary.undo") == 0
    drag(page, "x0", 63, 30, 30)
    page.mouse.up()
    wait_trajectory_starts_at(page, 63, page.evaluate("window.rftoy.points().x0[63]"), 10_000)


def test_a_refused_brush_stroke_leaves_the_scene_as_the_server_has_it(js_page: PageWatch, tight_server: str) -> None:
    """A painted target of more than 64 points is over the tight server's cost limit: the page keeps the old scene."""
    js_page.open(tight_server)
    page = js_page.page
    page.wait_for_function("window.rftoy.trajectory(0) !== null")
    original, settings = page.evaluate("window.rftoy.points()"), js_page.summary()["settings"]
    page.click("#brush")
    box = page.locator("#scene").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 20, box["y"] + box["height"] / 2, steps=50)
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2 + 40, steps=50)
    page.mouse.up()
    page.wait_for_function("window.rftoy.summary.errors.some((e) => e.includes('one snapshot would take'))")
    assert page.evaluate("window.rftoy.points()") == original
    assert js_page.summary()["settings"] == settings


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server that counts every drag as too slow (a floor of 1000 snapshots/s), so drags get coarse traces; its
    long chunks outlast the pauses between the test's pointer moves on a loaded machine (a chunk without an edit
    would end the drag)."""
    yield from serve(tmp_path_factory.mktemp("busy"), RFTOY_BUSY_SNAPSHOT_HZ="1000", RFTOY_CHUNK_MS="1000")


def test_the_page_says_when_a_busy_server_traces_a_drag_coarser(js_page: PageWatch, busy_server: str) -> None:
    js_page.open(busy_server)
    page = js_page.page
    badge = page.locator("#badge-busy")
    assert badge.is_hidden()
    start = drag(page, "x0", 7, 20, 0)
    for step in range(400):
        if badge.is_visible():
            break
        page.mouse.move(start["x"] + 20 + 15 * (step % 8), start["y"] + 10 * (step % 5))
    assert badge.inner_text() == "busy: euler × 8 paths while you drag"  # the page's midpoint × 16, halved
    js_page.screenshot("busy-server-coarse-drag")
    page.mouse.up()
    page.wait_for_function("document.getElementById('badge-busy').hidden", timeout=10_000)
    assert js_page.errors == []

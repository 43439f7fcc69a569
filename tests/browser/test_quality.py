"""Issue 15 in real Chromium on the live server: the sample strip and W2 figures per round (Distill with its own),
the pairing control's OT round, and the probe on a hand-made crossing scene (JS fallback on a phone, WebGPU)."""

from __future__ import annotations

import json
import math
import urllib.request

import pytest
from browser_page import PageWatch
from playwright.sync_api import Browser

SUMMARY = "window.rftoy.summary"


def test_sample_strip_and_w2_figures_for_each_round_and_distill(js_page: PageWatch, server: str) -> None:
    js_page.open(server)
    page = js_page.page
    page.wait_for_function(f"{SUMMARY}.quality[0] !== null", timeout=30_000)
    assert page.locator('.strip-row[data-round="0"] .strip-map').count() == 5
    first = js_page.summary()["quality"][0]
    assert first["steps"] == [1, 2, 4, 8] and all(w > 0 for w in first["w2"])
    assert first["against"] == "the scene's data points" and first["floor"] > 0
    shown, measured = page.evaluate("() => [document.querySelector('[data-w2-one=\"0\"]').textContent,"
                                    " window.rftoy.summary.quality[0].w2[0]]")
    assert float(shown) == pytest.approx(measured, rel=0.005)  # three significant digits
    assert "data points" in page.locator("#sample-note").inner_text()
    page.click("#distill")
    page.wait_for_function(f"{SUMMARY}.rounds[1]?.startsWith('distill') && {SUMMARY}.quality[1] !== null",
                           timeout=60_000)
    summary = js_page.summary()
    distilled, teacher = summary["quality"][1], summary["quality"][0]
    assert distilled["steps"] == [1] and distilled["w2"][0] > 0
    assert distilled["w2"][0] != teacher["w2"][0], "Distill shows its own one-step W2, not its teacher's"
    assert page.locator('.strip-row[data-round="1"] .strip-map').count() == 2
    assert page.locator('[data-w2-one="1"]').inner_text() != "–"
    js_page.screenshot("15-sample-strip")
    assert js_page.errors == []


def test_the_pairing_control_makes_an_ot_round_that_crosses_far_less(js_page: PageWatch, server: str) -> None:
    js_page.open(server)
    page = js_page.page
    page.wait_for_function(f"{SUMMARY}.randomCrossing !== null")
    assert page.locator("#coupling").get_attribute("title")
    page.select_option("#coupling", "ot")
    page.wait_for_function(f"{SUMMARY}.rounds.includes('OT')")
    ot = js_page.summary()["rounds"].index("OT")
    page.wait_for_function(f"{SUMMARY}.crossings[{ot}] !== null && {SUMMARY}.crossings[{ot}] < 0.3 * "
                           f"{SUMMARY}.randomCrossing", timeout=60_000)
    summary = js_page.summary()
    assert summary["randomCrossing"] > 0.1 and summary["settings"]["coupling"] == "ot"
    shown = float(page.locator(f'[data-crossing="{ot}"]').inner_text())
    random = float(page.locator('[data-crossing="random"]').inner_text())
    assert shown < 0.3 * random, (shown, random)
    assert page.locator("#rounds button", has_text="OT").count() == 1
    assert js_page.errors == []


def crossing_scene(server: str) -> str:
    """Two pairs whose straight segments cross at (0, 0) at t = 0.5; returns the page URL of the stored scene."""
    body = {"scene": {"kind": "points", "x0": [[-1.5, -1.5], [-1.5, 1.5]], "x1": [[1.5, 1.5], [1.5, -1.5]]}}
    request = urllib.request.Request(f"{server}/api/scenes", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return f"{server}/?scene={json.load(response)['id']}"


def probe_the_crossing(watch: PageWatch, url: str, touch: bool) -> None:
    watch.open(url)
    page = watch.page
    page.wait_for_function(f"{SUMMARY}.step > 300", timeout=60_000)
    page.evaluate("() => { const t = document.getElementById('t'); t.value = '0.5';"
                  " t.dispatchEvent(new Event('input', {bubbles: true})); }")
    page.wait_for_function(f"{SUMMARY}.t === 0.5 && !{SUMMARY}.playing")
    page.click("#probe")
    a = page.evaluate("window.rftoy.pointOnPage('x0', 0)")
    b = page.evaluate("window.rftoy.pointOnPage('x1', 0)")
    spot = ((a["x"] + b["x"]) / 2, (a["y"] + b["y"]) / 2)
    if touch:
        page.touchscreen.tap(*spot)
    else:
        page.mouse.click(*spot)
    probe = page.wait_for_function(f"(() => {{ const p = {SUMMARY}.probe; return p.velocity && p; }})()").json_value()
    assert sorted(probe["segments"]) == [0, 1], probe
    assert abs(probe["spot"][0]) < 0.1 and abs(probe["spot"][1]) < 0.1
    angles = sorted(math.degrees(math.atan2(d[1], d[0])) for d in probe["directions"])
    assert angles == pytest.approx([-45, 45])
    vx, vy = probe["velocity"]
    angle = math.degrees(math.atan2(vy, vx))
    assert angles[0] < angle < angles[1], f"the learned velocity {probe['velocity']} is not between the directions"
    assert "2 training segments" in page.locator("#probe-readout").inner_text()
    assert watch.summary()["n"] == 2, "a probe click picks a spot; it adds no pair"


def test_the_probe_on_a_phone_with_the_js_fallback(browser_js: Browser, server: str) -> None:
    context = browser_js.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                     device_scale_factor=2)
    try:
        watch = PageWatch(context.new_page())
        probe_the_crossing(watch, crossing_scene(server), touch=True)
        assert watch.summary()["backend"] == "js"
        watch.screenshot("15-probe-phone")
        assert watch.errors == []
    finally:
        context.close()


def test_the_probe_on_webgpu(gpu_page: PageWatch, server: str) -> None:
    probe_the_crossing(gpu_page, crossing_scene(server), touch=False)
    assert gpu_page.summary()["backend"] == "webgpu"
    assert gpu_page.errors == []


def test_the_probe_in_online_mode_pairs_every_noise_point_with_every_data_point(js_page: PageWatch,
                                                                               server: str) -> None:
    js_page.open(server)
    page = js_page.page
    page.select_option("#mode", "online")
    page.wait_for_function(f"{SUMMARY}.settings.mode === 'online' && {SUMMARY}.step > 50")
    page.evaluate("() => { const t = document.getElementById('t'); t.value = '0.5';"
                  " t.dispatchEvent(new Event('input', {bubbles: true})); }")
    page.click("#probe")
    n = js_page.summary()["n"]
    a = page.evaluate("window.rftoy.pointOnPage('x0', 0)")
    b = page.evaluate("window.rftoy.pointOnPage('x1', 0)")
    page.mouse.click((a["x"] + b["x"]) / 2, (a["y"] + b["y"]) / 2)  # where the pair (x0_0, x1_0) is at t = 0.5
    probe = page.wait_for_function(f"(() => {{ const p = {SUMMARY}.probe; return p.velocity && p; }})()").json_value()
    assert len(probe["segments"]) >= 1 and "every noise point with every data point" in probe["text"]
    assert js_page.summary()["n"] == n, "a probe click adds no pair"
    assert js_page.errors == []

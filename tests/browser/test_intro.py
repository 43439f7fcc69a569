"""The first-visit introduction (web/intro.js): shown once, remembered, and laid out so the figure, the time bar
and the legend stay in view beside it (above it on a phone, where it reads as the figure's caption)."""

from __future__ import annotations

import pytest
from browser_page import ARTIFACTS, PageWatch
from playwright.sync_api import Browser

BOXES = """() => Object.fromEntries(['intro', 'canvases', 'timebar', 'legend'].map((id) => {
  const r = document.getElementById(id).getBoundingClientRect();
  return [id, {top: r.top, bottom: r.bottom, height: r.height}];
}))"""

# the page box of each cloud's drawn points, and of the scene canvas
DRAWN = """() => {
  const box = (points) => ({left: Math.min(...points.map((p) => p.x)), right: Math.max(...points.map((p) => p.x)),
                            top: Math.min(...points.map((p) => p.y)), bottom: Math.max(...points.map((p) => p.y))});
  const on = (cloud) => window.rftoy.points()[cloud].map((_, i) => window.rftoy.pointOnPage(cloud, i));
  const r = document.querySelector('#canvases canvas').getBoundingClientRect();
  return {x0: box(on('x0')), x1: box(on('x1')), canvas: {left: r.left, right: r.right, top: r.top, bottom: r.bottom}};
}"""


@pytest.mark.parametrize("query", ["", "?lesson=1"])
def test_first_visit_shows_the_introduction_once(browser_js: Browser, server: str, query: str) -> None:
    context = browser_js.new_context(viewport={"width": 1440, "height": 900})
    try:
        watch = PageWatch(context.new_page())
        watch.open(f"{server}/{query}")
        intro = watch.page.locator("#intro")
        if query:
            assert intro.is_hidden()  # the tour link goes straight to the lesson
            return
        assert intro.is_visible()
        words = sum(len(text.split()) for text in intro.locator("p").all_inner_texts())
        assert words <= 160
        assert intro.locator("a[href^='https://arxiv.org/']").count() == 1
        watch.page.click("#intro-close")
        assert intro.is_hidden()
        watch.open(f"{server}/")  # a second visit: remembered
        assert watch.page.locator("#intro").is_hidden()
        watch.page.click("#about")
        assert watch.page.locator("#intro").is_visible()
        assert watch.errors == []
    finally:
        context.close()


@pytest.mark.parametrize(("width", "height", "phone"), [(1280, 900, False), (1440, 900, False), (390, 844, True)])
def test_the_introduction_leaves_the_figure_in_view(browser_js: Browser, server: str, width: int, height: int,
                                                   phone: bool) -> None:
    options = {"has_touch": True, "is_mobile": True, "device_scale_factor": 2} if phone else {}
    context = browser_js.new_context(viewport={"width": width, "height": height}, **options)
    try:
        watch = PageWatch(context.new_page())
        watch.open(f"{server}/")
        page = watch.page
        assert page.locator("#intro").is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"intro-{width}.png"))
        box = page.evaluate(BOXES)
        # still a figure, not a strip (on a phone the side-by-side scene's canvas is shorter: its width sets the scale)
        assert box["canvases"]["height"] >= (280 if phone else 300)
        # the default scene reads left to right, noise to data, and every point of it is drawn inside the canvas
        drawn = page.evaluate(DRAWN)
        assert drawn["x0"]["right"] < drawn["x1"]["right"] and drawn["x0"]["left"] < drawn["x1"]["left"], drawn
        for cloud in ("x0", "x1"):
            assert drawn["canvas"]["left"] <= drawn[cloud]["left"] and drawn[cloud]["right"] <= drawn["canvas"]["right"]
            assert drawn["canvas"]["top"] <= drawn[cloud]["top"] and drawn[cloud]["bottom"] <= drawn["canvas"]["bottom"]
        if phone:
            # the figure first, then its caption: the canvas whole on the first screen, the introduction under it
            assert box["canvases"]["bottom"] <= height
            assert box["intro"]["top"] >= box["legend"]["bottom"]
        else:
            # the introduction above; the canvas, time bar and legend still whole in the first screen
            assert box["intro"]["bottom"] <= box["canvases"]["top"]
            assert box["legend"]["bottom"] <= height, box
        page.click("#intro-close")
        if not phone:  # dismissed, the introduction gives the canvas its height back
            page.wait_for_function("(h) => document.getElementById('canvases').getBoundingClientRect().height > h",
                                   arg=box["canvases"]["height"])
        assert watch.errors == []
    finally:
        context.close()

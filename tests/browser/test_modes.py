"""Presenter (?present=1, the P key) and embed (?embed=1&controls=…) modes show exactly their controls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_page import PageWatch
from playwright.sync_api import Browser

#: ids of the interactive elements a person can see (round tabs by their round, as "tab:<round>")
VISIBLE_CONTROLS = """() => [...document.querySelectorAll('button, input, select, textarea, a[href]')]
  .filter((el) => el.checkVisibility() && el.getBoundingClientRect().width > 0)
  .map((el) => el.id || (el.dataset.round !== undefined ? `tab:${el.dataset.round}` : el.outerHTML.slice(0, 60)))
  .sort()"""


@pytest.fixture
def watch(browser_js: Browser) -> Iterator[PageWatch]:
    context = browser_js.new_context(viewport={"width": 1280, "height": 720})  # a projector
    yield PageWatch(context.new_page())
    context.close()


def bottom(box: dict) -> float:
    return box["y"] + box["height"]


def visible(watch: PageWatch) -> list[str]:
    return watch.page.evaluate(VISIBLE_CONTROLS)


def test_presenter_mode_shows_play_reflow_start_over_and_the_tour(watch: PageWatch, server: str) -> None:
    watch.open(f"{server}/?present=1")
    page = watch.page
    assert watch.summary()["teaching"]["mode"] == "present"
    assert visible(watch) == sorted(["play", "quick-reflow", "quick-reset", "quick-tour"])
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "20px"  # large type
    box = page.locator("#canvases").bounding_box()
    assert box["width"] > 1200 and box["height"] > 500  # the figure fills the projector
    assert bottom(page.locator("#legend").bounding_box()) <= 720
    assert page.locator("#notice").is_hidden()  # the backend notice is for the presenter's screen, not the audience
    page.click("#quick-tour")
    page.wait_for_function("window.rftoy.summary.teaching.lesson.active")
    assert visible(watch) == sorted(["play", "quick-reflow", "quick-reset", "quick-tour",
                                     "lesson-close", "lesson-back", "lesson-next"])
    # the tour reads in a column beside the figure: both whole on the projector, the figure still large
    figure = page.locator("#canvases").bounding_box()
    tour = page.locator("#lesson").bounding_box()
    assert tour["x"] >= figure["x"] + figure["width"] and bottom(tour) <= 720
    assert figure["height"] > 500 and bottom(figure) <= 720
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('.lesson-text')).fontSize)") >= 18
    rounds = len(watch.summary()["rounds"])
    page.click("#quick-reflow")
    page.wait_for_function("(n) => window.rftoy.summary.rounds.length > n", arg=rounds, timeout=60_000)
    page.click("#quick-reset")  # start over: the rounds go, 1-RF trains again
    page.wait_for_function("window.rftoy.summary.rounds.length === 1", timeout=60_000)
    assert watch.errors == []


def test_the_p_key_toggles_presenter_mode(watch: PageWatch, server: str) -> None:
    watch.open(server)
    page = watch.page
    assert watch.summary()["teaching"]["mode"] == "normal"
    assert "n" in visible(watch) and "quick-reflow" not in visible(watch)
    page.locator("body").press("p")
    page.wait_for_function("window.rftoy.summary.teaching.mode === 'present'")
    assert visible(watch) == sorted(["play", "quick-reflow", "quick-reset", "quick-tour"])
    page.locator("body").press("P")
    page.wait_for_function("window.rftoy.summary.teaching.mode === 'normal'")
    assert watch.errors == []


@pytest.mark.parametrize(("controls", "expected"), [
    (None, ["play", "quick-reflow"]),
    ("play,time,reflow,distill,reset,rounds", ["play", "t", "quick-reflow", "quick-distill", "quick-reset",
                                               "tab:random", "tab:0"]),
    ("reflow", ["quick-reflow"]),
])
def test_embed_mode_shows_the_figure_and_the_listed_controls(watch: PageWatch, server: str, controls: str | None,
                                                             expected: list[str]) -> None:
    query = "?embed=1" + (f"&controls={controls}" if controls else "")
    watch.open(f"{server}/{query}")
    page = watch.page
    assert watch.summary()["teaching"] == {**watch.summary()["teaching"], "mode": "embed", "intro": False}
    assert visible(watch) == sorted(expected)
    assert page.locator("header").is_hidden() and page.locator("#panels").is_hidden()
    box = page.locator("#canvases").bounding_box()
    assert box["height"] > 600  # the figure takes the frame
    page.click("#quick-reflow")
    page.wait_for_function("window.rftoy.summary.rounds.length === 2", timeout=60_000)
    assert watch.errors == []


def test_the_documented_iframe_shows_every_listed_control_inside_its_frame(browser_js: Browser, server: str) -> None:
    """docs/web.md's snippet: 720 × 520, controls=play,reflow,rounds,legend; the figure gives way to the controls."""
    context = browser_js.new_context(viewport={"width": 720, "height": 520})
    try:
        watch = PageWatch(context.new_page())
        watch.open(f"{server}/?embed=1&controls=play,reflow,rounds,legend")
        page = watch.page
        for selector in ("#rounds", "#play", "#quick-reflow", "#legend"):
            box = page.locator(selector).bounding_box()
            assert box is not None and bottom(box) <= 520, (selector, box)
        assert page.locator("#canvases").bounding_box()["height"] > 300
        assert watch.errors == []
    finally:
        context.close()

"""The guided lesson (web/lesson.js) driven step by step in real Chromium against the live server: on WebGPU, on
the JS fallback and on a phone with touch. Each step's check is read from the page's own state (window.rftoy)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from browser_page import ARTIFACTS, PageWatch
from playwright.sync_api import Browser, BrowserContext, Page, TimeoutError

LESSON = "window.rftoy.summary.teaching.lesson"
#: training on a busy shared machine: generous, event-based waits
SLOW = 240_000


def lesson(page: Page) -> dict:
    return page.evaluate(LESSON)


def wait_passed(page: Page, step: str, timeout: float = SLOW) -> dict:
    """Wait until the open step is `step` and its check has held; returns the lesson's summary."""
    try:
        page.wait_for_function(f"(id) => {LESSON}.id === id && {LESSON}.passed", arg=step, timeout=timeout)
    except TimeoutError as error:
        raise AssertionError(f"step {step} did not hold: {lesson(page)}") from error
    return lesson(page)


def press_next(page: Page, expected: str) -> None:
    page.click("#lesson-next")
    page.wait_for_function(f"(id) => {LESSON}.id === id", arg=expected, timeout=10_000)


def mouse_drag(context: BrowserContext, page: Page, start: dict) -> None:
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    page.mouse.move(start["x"] + 40, start["y"] - 30, steps=8)
    page.mouse.up()


def touch_drag(context: BrowserContext, page: Page, start: dict) -> None:
    cdp = context.new_cdp_session(page)
    x, y = start["x"], start["y"]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for k in range(1, 8):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x + 5 * k, "y": y - 4 * k}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def press_until_passed(page: Page, step: str, presses: int) -> dict:
    """Press the step's action (Reflow) until its check holds: again once a new round has trained without it."""
    for _ in range(presses):
        rounds = len(page.evaluate("window.rftoy.summary.rounds"))
        page.click("#lesson-action")
        page.wait_for_function(
            f"(n) => ({LESSON}.passed) || (window.rftoy.summary.rounds.length > n"
            " && window.rftoy.summary.trainingState === 'idle')", arg=rounds, timeout=SLOW)
        if lesson(page)["passed"]:
            return lesson(page)
    return wait_passed(page, step, timeout=1_000)


def drive_lesson(watch: PageWatch, context: BrowserContext, url: str, drag: Callable, label: str) -> None:
    page = watch.page
    watch.open(url)
    page.wait_for_function(f"{LESSON}.active", timeout=20_000)
    assert page.evaluate("window.rftoy.summary.teaching.intro") is False  # the tour link skips the introduction

    def shot() -> None:
        """The viewport as a visitor sees the step (the panel at the top), to look at."""
        ARTIFACTS.mkdir(exist_ok=True)
        page.evaluate("document.getElementById('lesson').scrollIntoView({block: 'start'})")
        page.screenshot(path=str(ARTIFACTS / f"lesson-{label}-{lesson(page)['step'] + 1}-{lesson(page)['id']}.png"))

    values = wait_passed(page, "random")["values"]
    assert values["random"] > 0.1  # random pairs cross
    assert page.evaluate("window.rftoy.summary.n") == 48
    shot()
    press_next(page, "bend")
    values = wait_passed(page, "bend")["values"]
    assert values["flow"] <= 0.1 and values["flow"] < values["random"] / 2
    shot()

    press_next(page, "drag")
    assert not lesson(page)["passed"]  # the drag step waits for the user's drag
    page.wait_for_function("window.rftoy.trajectory(5) !== null", timeout=SLOW)
    page.locator("#canvases").scroll_into_view_if_needed()
    drag(context, page, page.evaluate("window.rftoy.pointOnPage('x0', 5)"))
    values = wait_passed(page, "drag", timeout=60_000)["values"]
    assert values["applied"] >= values["seq"] > 0
    shot()

    press_next(page, "steps")
    values = wait_passed(page, "steps")["values"]
    assert values["w2One"] >= 1.5 * values["w2Chosen"] > 0  # one Euler step misses the data
    shot()

    press_next(page, "reflow")
    values = press_until_passed(page, "reflow", presses=3)["values"]
    assert values["best"] <= values["first"] / 10
    shot()

    press_next(page, "one-step")
    values = wait_passed(page, "one-step")["values"]
    assert values["later"] <= 0.5 * values["first"]  # 2-RF's one-step W2 well below 1-RF's
    shot()

    press_next(page, "distill")
    page.click("#lesson-action")
    values = wait_passed(page, "distill")["values"]
    assert values["gap"] <= 0.5 * values["firstGap"]
    shot()

    press_next(page, "yours")
    assert lesson(page)["passedSteps"] == ["random", "bend", "drag", "steps", "reflow", "one-step", "distill", "yours"]
    page.click("#lesson-next")  # Finish
    page.wait_for_function(f"!{LESSON}.active", timeout=5_000)
    assert watch.errors == []


@pytest.mark.timeout(900)  # three rounds of training on a busy shared machine
def test_lesson_on_webgpu(browser_gpu: Browser, server: str) -> None:
    context = browser_gpu.new_context(viewport={"width": 1440, "height": 900})
    try:
        watch = PageWatch(context.new_page())
        drive_lesson(watch, context, f"{server}/?lesson=1", mouse_drag, "webgpu")
        assert watch.summary()["backend"] == "webgpu"
    finally:
        context.close()


@pytest.mark.timeout(900)  # three rounds of training on a busy shared machine
def test_lesson_on_the_js_fallback(browser_js: Browser, server: str) -> None:
    context = browser_js.new_context(viewport={"width": 1440, "height": 900})
    try:
        watch = PageWatch(context.new_page())
        drive_lesson(watch, context, f"{server}/?lesson=1", mouse_drag, "js")
        assert watch.summary()["backend"] == "js"
    finally:
        context.close()


@pytest.mark.timeout(900)  # three rounds of training on a busy shared machine
def test_lesson_on_a_phone_with_touch(browser_js: Browser, server: str) -> None:
    context = browser_js.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                     device_scale_factor=2)
    try:
        watch = PageWatch(context.new_page())
        drive_lesson(watch, context, f"{server}/?lesson=1", touch_drag, "phone")
    finally:
        context.close()


def test_lesson_keys_page_through_and_steps_can_be_skipped(js_page: PageWatch, server: str) -> None:
    """Page Down / Page Up anywhere, arrows inside the panel (they scrub t elsewhere); Skip before a check holds."""
    page = js_page.page
    js_page.open(server)
    page.click("#tour")
    page.wait_for_function(f"{LESSON}.active && {LESSON}.id === 'random'")
    page.keyboard.press("PageDown")
    page.wait_for_function(f"{LESSON}.id === 'bend'")
    page.keyboard.press("PageUp")
    page.wait_for_function(f"{LESSON}.id === 'random'")
    page.focus("#lesson")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"{LESSON}.id === 'bend'")
    page.evaluate("() => document.getElementById('lesson').focus()")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"{LESSON}.id === 'drag'")
    assert not lesson(page)["passed"]
    assert page.inner_text("#lesson-next") == "Skip"  # a step whose check has not held can be skipped
    page.click("#lesson-next")
    page.wait_for_function(f"{LESSON}.id === 'steps'")
    assert page.evaluate("window.rftoy.summary.playing")  # the arrows paged, they did not scrub t
    page.keyboard.press("Escape")
    page.wait_for_function(f"!{LESSON}.active")
    assert js_page.errors == []

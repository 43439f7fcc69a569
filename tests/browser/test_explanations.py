"""Every control, table column, badge, panel and legend entry carries a plain explanation in its accessible
description (title or aria-describedby); keyboard focus shows it as a tip; the advanced settings are folded."""

from __future__ import annotations

import re

from browser_page import PageWatch

UNEXPLAINED = """() => [...document.querySelectorAll(
    'button, input, select, textarea, th, .badge, .panel h2, fieldset > legend, summary, #legend > span[data-mark]')]
  .filter((el) => {
    const described = (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent.trim() || '').join('');
    return !(el.title || '').trim() && !described;
  })
  .map((el) => el.id || el.outerHTML.slice(0, 80))"""


def test_every_control_and_column_is_explained(js_page: PageWatch, server: str) -> None:
    page = js_page.page
    js_page.open(server)
    page.wait_for_function("document.querySelectorAll('#rounds button').length >= 2")
    page.click("#about")  # the introduction's buttons too
    page.click("#tour")  # and the lesson's
    page.wait_for_function("window.rftoy.summary.teaching.lesson.active")
    for box in page.locator("[data-layer]").all():  # every legend entry shows
        box.check()
    page.select_option("#field", "arrows")
    page.locator("#advanced > summary").click()
    count = page.evaluate("document.querySelectorAll('button, input, select, th').length")
    assert count > 40
    assert page.evaluate(UNEXPLAINED) == []
    jargon = page.evaluate("[...document.querySelectorAll('#controls label, th')].map((el) => el.textContent)")
    assert not any("‖" in text or "warp s" in text for text in jargon)  # the labels are words
    assert js_page.errors == []


def test_advanced_settings_are_folded(js_page: PageWatch, server: str) -> None:
    page = js_page.page
    js_page.open(server)
    for setting in ["lr", "activation", "depth", "time_sampling", "warp_s"]:
        assert page.locator(f"#advanced #{setting}").count() == 1
        assert page.locator(f"#{setting}").is_hidden()
    page.locator("#advanced > summary").click()
    assert page.locator("#lr").is_visible()
    assert page.locator("#width").is_visible()  # the everyday settings stay out


def test_keyboard_focus_shows_the_explanation(js_page: PageWatch, server: str) -> None:
    page = js_page.page
    js_page.open(server)
    page.focus("#steps")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focus by keyboard: :focus-visible
    tip = page.locator("#tip")
    assert tip.is_visible()
    assert tip.inner_text() == page.evaluate("document.getElementById('steps').title") != ""


def test_technical_badges_are_in_the_status_line(js_page: PageWatch, server: str) -> None:
    page = js_page.page
    js_page.open(server)
    for badge in ["badge-server", "badge-browser", "badge-latency", "badge-fps"]:
        assert page.locator(f"footer#status #{badge}").count() == 1
        assert page.locator(f"header #{badge}").count() == 0


def test_every_typed_bad_value_is_refused_in_plain_words(js_page: PageWatch, server: str) -> None:
    """Each number a person types in the controls, far below its range: a plain message naming the setting as its
    control does (the server may add its group: "solver steps") and the range, the control back at its value, the
    scene and settings kept, nothing sent."""
    page = js_page.page
    js_page.open(server)
    page.wait_for_function("window.rftoy.trajectory(0) !== null")
    page.locator("#advanced > summary").click()
    points, settings = page.evaluate("window.rftoy.points()"), js_page.summary()["settings"]
    typed = page.evaluate("""() => [...document.querySelectorAll('#controls input[type=number]')]
      .filter((el) => el.id in window.rftoy.summary.settings).map((el) => el.id)""")
    assert {"n", "width", "steps", "lr", "depth", "warp_s"} <= set(typed)
    for key in typed:
        name = page.evaluate("(id) => document.getElementById(id).closest('label').firstChild.textContent.trim()", key)
        count = len(js_page.summary()["errors"])
        page.fill(f"#{key}", "-1000000")
        page.press(f"#{key}", "Enter")
        page.wait_for_function("(n) => window.rftoy.summary.errors.length > n", arg=count, timeout=5_000)
        message = js_page.summary()["errors"][-1]
        words = rf"([a-z]+ )?{re.escape(name)} must be (a whole number )?(at least|above|between) -?[\d.]+.*"
        assert re.fullmatch(words, message), (key, message)
        assert page.locator("#error").inner_text() == message
        assert float(page.input_value(f"#{key}")) == settings[key]
    assert js_page.summary()["settings"] == settings and page.evaluate("window.rftoy.points()") == points
    assert not any(e.startswith("server:") for e in js_page.summary()["errors"]), "refused before sending"
    assert js_page.errors == []

"""The page's settings table takes its values from the server's `ready.defaults` (web/settings.js): the page starts
from them, a share link stores what differs (and always the placement), and links made before keep opening the same
scene (overlaid, as scenes were drawn before placements)."""

from __future__ import annotations

import base64
import json
import zlib
from urllib.parse import urlsplit

from browser_page import PageWatch
from playwright.sync_api import Browser
from rftoy.protocol import defaults

# The settings the page kept itself before the server sent its defaults (web/state.js DEFAULT_SETTINGS until
# then): its links stored only what differed from these.
OLD_PAGE_DEFAULTS = {"source": "gaussian", "target": "moons", "n": 64, "seed": 0, "width": 64, "depth": 3,
                     "activation": "silu", "lr": 0.005, "time_sampling": "uniform", "warp_s": 1, "solver": "midpoint",
                     "steps": 16, "mode": "pairs", "coupling": "independent"}


def state_link(server: str, shared: dict) -> str:
    """A `#s=` link as the page writes it: JSON, deflate-raw, base64url without padding."""
    packer = zlib.compressobj(wbits=-15)
    packed = packer.compress(json.dumps(shared).encode()) + packer.flush()
    return f"{server}/#s={base64.urlsafe_b64encode(packed).decode().rstrip('=')}"


def read_state_link(url: str) -> dict:
    text = urlsplit(url).fragment.removeprefix("s=")
    return json.loads(zlib.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), wbits=-15))


def test_the_page_starts_from_the_server_defaults_and_a_link_stores_what_differs(js_page: PageWatch,
                                                                                server: str) -> None:
    js_page.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    js_page.open(server)
    page = js_page.page
    table = {**defaults()["scene"], **defaults()["config"]}
    assert js_page.summary()["settings"] == {key: table[key] for key in [*OLD_PAGE_DEFAULTS, "placement"]}
    assert js_page.summary()["settings"] == {**OLD_PAGE_DEFAULTS, "placement": "apart"}, \
        "the server's defaults are those the page had, and the scene is drawn side by side"

    page.fill("#steps", "24")
    page.press("#steps", "Enter")
    page.wait_for_function("window.rftoy.summary.settings.steps === 24")
    page.click("#share")
    page.wait_for_function("window.rftoy.summary.sharedUrl !== null")
    shared = read_state_link(js_page.summary()["sharedUrl"])
    assert shared["settings"] == {"steps": 24, "placement": "apart"} and "x0" not in shared, shared
    assert js_page.errors == []


def test_links_made_before_the_server_sent_its_defaults_open_the_same_scene(browser_js: Browser,
                                                                           server: str) -> None:
    # quarters and eighths: exact in the server's float32, so the points come back as the link has them
    x0 = [[-1.0 + 0.25 * i, -1.5] for i in range(10)]
    x1 = [[-1.0 + 0.25 * i, 1.5 + 0.125 * i] for i in range(10)]
    context = browser_js.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = PageWatch(context.new_page())
        page.open(state_link(server, {"v": 1, "settings": {"target": "circle", "steps": 24}}))
        assert page.summary()["settings"] == {**OLD_PAGE_DEFAULTS, "target": "circle", "steps": 24,
                                              "placement": "overlaid"}, "made before placements: overlaid"
        assert page.summary()["n"] == 64
        points = page.page.evaluate("window.rftoy.points()")
        assert abs(sum(x for x, _ in points["x1"]) / 64) < 0.5, "the circle is drawn around the origin, as then"

        # an edited scene whose preset names were the defaults: the link has its points and no names (a fresh page:
        # a link that differs only after # would not load the page again)
        page = PageWatch(context.new_page())
        page.open(state_link(server, {"v": 1, "settings": {"lr": 0.01}, "x0": x0, "x1": x1}))
        page.page.wait_for_function("window.rftoy.trajectory(9) !== null")
        assert page.summary()["settings"] == {**OLD_PAGE_DEFAULTS, "lr": 0.01, "n": 10, "placement": "overlaid"}
        assert page.page.evaluate("window.rftoy.points()") == {"x0": x0, "x1": x1}
        # the session's scene names its presets again: online mode (which samples them) is accepted, not refused
        # (a refusal comes before the snapshots after it)
        seen = page.summary()["snapshots"]
        page.page.select_option("#mode", "online")
        page.page.wait_for_function("(seen) => window.rftoy.summary.snapshots > seen + 5 "
                                    "|| window.rftoy.summary.errors.length > 0", arg=seen)
        assert page.summary()["errors"] == [] and page.summary()["settings"]["mode"] == "online"
        assert page.errors == []
    finally:
        context.close()

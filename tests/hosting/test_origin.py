"""Websocket origin check: the page's own host, loopback pages and configured origins only."""

from __future__ import annotations

import pytest
from live_client import SMALL, LiveClient
from rftoy.api.guard import origin_allowed


@pytest.mark.parametrize(("origin", "host", "allowed", "expected"), [
    (None, "demo.example.org", [], True),
    ("https://demo.example.org", "demo.example.org", [], True),
    ("https://demo.example.org", "demo.example.org:443", [], True),
    ("http://demo.example.org:8080", "demo.example.org:8080", [], True),
    ("https://demo.example.org", "demo.example.org:8443", [], False),
    ("https://evil.example", "demo.example.org", [], False),
    ("https://demo.example.org.evil.example", "demo.example.org", [], False),
    ("http://localhost:5173", "demo.example.org", [], True),
    ("http://[::1]:8000", "demo.example.org", [], True),
    ("null", "demo.example.org", [], False),
    ("file://", "demo.example.org", [], False),
    ("https://friend.example", "demo.example.org", ["https://friend.example"], True),
    ("https://friend.example/", "demo.example.org", ["https://friend.example"], True),
    ("https://evil.example", "demo.example.org", ["*"], True),
])
def test_origin_rules(origin: str | None, host: str, allowed: list[str], expected: bool) -> None:
    assert origin_allowed(origin, host, allowed) is expected


async def test_a_foreign_origin_is_refused_with_1008_and_its_own_host_is_not(launch) -> None:
    served = launch(allowed_origins="https://friend.example")
    evil = await LiveClient.open(served.ws_url, Origin="https://evil.example")
    errors, code, reason = await evil.refusal()
    assert code == 1008 and reason == "origin"
    assert errors[0]["code"] == "origin" and "https://evil.example" in errors[0]["message"]
    for origin in (served.http_url, "https://friend.example", f"http://localhost:{served.port}"):
        client = await LiveClient.open(served.ws_url, Origin=origin)
        await client.hello(**SMALL)
        await client.close()
    served.assert_healthy()

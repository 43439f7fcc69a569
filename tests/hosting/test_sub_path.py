"""Serving under a proxy's sub-path (RFTOY_ROOT_PATH=/demo), for proxies that keep the prefix and ones that strip it."""

from __future__ import annotations

import httpx
from live_client import SMALL, LiveClient


def test_http_under_the_sub_path_and_stripped(launch) -> None:
    served = launch(root_path="/demo")
    bare = httpx.get(served.http_url + "/demo?scene=abc", timeout=10)
    assert bare.status_code == 307 and bare.headers["location"] == "/demo/?scene=abc"
    for prefix in ("/demo", ""):
        page = served.get(prefix + "/")
        assert page.status_code == 200 and 'src="main.js"' in page.text
        assert served.get(prefix + "/socket.js").status_code == 200
        assert served.get(prefix + "/api/health").json()["status"] == "ok"
        assert served.get(prefix + "/api/presets").status_code == 200
    assert served.get("/demo/openapi.json").status_code == 200
    assert served.get("/demo/openapi.json").json()["servers"] == [{"url": "/demo"}]


async def test_the_websocket_under_the_sub_path_and_stripped(launch) -> None:
    served = launch(root_path="/demo")
    for url in (f"ws://127.0.0.1:{served.port}/demo/ws", f"ws://127.0.0.1:{served.port}/ws"):
        client = await LiveClient.open(url, Origin=served.http_url)
        await client.hello(**SMALL)
        await client.wait("snapshot")
        await client.close()
    served.assert_healthy()

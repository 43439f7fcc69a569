"""A client that sends but does not read is closed once its unsent replies pass `max_unread_bytes`."""

from __future__ import annotations

import asyncio

import httpx
from live_client import SMALL, LiveClient
from websockets.exceptions import ConnectionClosed

BIG_SCENE = {"kind": "preset", "source": "gaussian", "target": "moons", "n": 4096, "seed": 0}


async def test_a_client_that_does_not_read_is_closed_by_the_byte_bound(launch) -> None:
    served = launch(max_unread_bytes=256 * 1024, max_unread_replies=10_000, max_messages_per_second=1000)
    client = await LiveClient.open(served.ws_url)
    await client.hello(**SMALL)
    sent = 0
    # Each small set_scene asks for a ~150 KB scene reply; the client reads none of them (the client library
    # stops reading its socket once 16 messages wait), so they pile up in the server's outbox.
    async with httpx.AsyncClient(base_url=served.http_url) as http:
        while (await http.get("/api/metrics")).json()["connections"] and sent < 400:
            try:
                await client.send({"type": "set_scene", "scene": {**BIG_SCENE, "seed": sent % 7}})
            except ConnectionClosed:
                break
            sent += 1
            await asyncio.sleep(0.01)
    errors, code, reason = await client.refusal(timeout=30)
    assert not errors, errors
    assert code == 1008 and reason == "flood: more than 262144 bytes of replies left unread", (code, reason)
    assert sent < 400
    served.assert_healthy()

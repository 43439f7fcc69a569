"""A client that sends but does not read is closed once its unsent replies pass `max_unread_bytes`."""

from __future__ import annotations

import asyncio
import json

from hosting_client import SMALL_NET, hello, open_socket, send
from websockets.exceptions import ConnectionClosed

BIG_SCENE = {"kind": "preset", "source": "gaussian", "target": "moons", "n": 4096, "seed": 0}


def test_a_client_that_does_not_read_is_closed_by_the_byte_bound(launch) -> None:
    served = launch(max_unread_bytes=256 * 1024, max_unread_replies=10_000, max_messages_per_second=1000)

    async def scenario() -> tuple[int, str, int]:
        ws = await open_socket(served.ws_url)
        await hello(ws, config=SMALL_NET)
        sent = 0
        # Each small set_scene asks for a ~150 KB scene reply; the client reads none of them (the client library
        # stops reading its socket once 16 messages wait), so they pile up in the server's outbox.
        while served.hub.connections and sent < 400:
            try:
                await send(ws, {"type": "set_scene", "scene": {**BIG_SCENE, "seed": sent % 7}})
            except ConnectionClosed:
                break
            sent += 1
            await asyncio.sleep(0.01)
        async with asyncio.timeout(30):
            try:
                while True:
                    raw = await ws.recv()
                    assert isinstance(raw, bytes) or json.loads(raw)["type"] != "error", raw
            except ConnectionClosed as closed:
                assert closed.rcvd is not None, "no close frame"
                return closed.rcvd.code, closed.rcvd.reason, sent

    code, reason, sent = asyncio.run(scenario())
    assert code == 1008 and reason == "flood: more than 262144 bytes of replies left unread", (code, reason)
    assert sent < 400
    served.assert_healthy()

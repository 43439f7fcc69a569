"""The `ready` message carries each setting's range (the page's one source), and a setting out of its range is
refused in plain words that name it and its range, changing nothing."""

from __future__ import annotations

from live_client import SMALL_NET, LiveClient, assert_unchanged
from live_server import LiveServer
from rftoy.protocol.bounds import words

SCENE = {"kind": "preset", "n": 8, "seed": 2}


async def test_ready_carries_bounds_from_config_and_limits(live: LiveServer) -> None:
    client = await LiveClient.open(live.ws_url)
    ready = await client.hello(scene=SCENE, config=SMALL_NET)
    bounds = ready["limits"]["bounds"]
    assert bounds["n"] == {"label": "points", "integer": True, "ge": 2, "le": live.settings.max_points}
    assert bounds["width"]["le"] == live.settings.max_width and bounds["width"]["ge"] == 1
    assert bounds["lr"] == {"label": "learning rate", "integer": False, "gt": 0, "le": 1}
    assert bounds["seed"]["le"] == 2**31 - 1
    assert words(bounds["n"]) == f"points must be between 2 and {live.settings.max_points}"
    await client.close()


async def test_out_of_range_settings_are_refused_in_plain_words(live: LiveServer) -> None:
    client = await LiveClient.open(live.ws_url)
    ready = await client.hello(scene=SCENE, config=SMALL_NET)
    await client.send({"type": "pause"})
    paused = await client.snapshot_where(lambda s: s.meta["state"] == "paused")
    cases = [
        ({"type": "set_scene", "scene": {**SCENE, "n": 1}}, f"points must be between 2 and {live.settings.max_points}"),
        ({"type": "set_config", "config": {"lr": 0}}, "learning rate must be above 0 and at most 1"),
        ({"type": "set_config", "config": {"steps": 2.5}}, "solver steps must be a whole number between 1 and"),
        ({"type": "set_config", "config": {"warp_s": 9}}, "time warp must be between 0 and 1.5"),
        ({"type": "set_config", "config": {"depth": 99}}, "depth must be between 1 and 6"),
    ]
    for message, expected in cases:
        error = await client.refused(message)
        assert error["code"] == "invalid" and error["message"].startswith(expected), error
        assert "Input should" not in error["message"] and "config." not in error["message"]
    await assert_unchanged(client, ready, paused)
    await client.close()

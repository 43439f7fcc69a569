"""One set of defaults: `ready.defaults` is what the server starts a session from, and what the page shows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from live_client import LiveClient
from live_server import LiveServer
from rftoy.protocol import Config, PresetScene

# The page's settings table before it read them from `ready` (web/state.js DEFAULT_SETTINGS at the time).
PAGE_SCENE = {"source": "gaussian", "target": "moons", "n": 64, "seed": 0}
PAGE_CONFIG = {"width": 64, "depth": 3, "activation": "silu", "lr": 0.005, "time_sampling": "uniform", "warp_s": 1.0,
               "solver": "midpoint", "steps": 16, "mode": "pairs", "coupling": "independent"}


@pytest.mark.anyio
async def test_ready_carries_the_defaults_a_bare_hello_starts_from(launch: Callable[..., LiveServer]) -> None:
    live = launch()
    client = await LiveClient.open(live.ws_url)
    try:
        ready = await client.hello()
    finally:
        await client.ws.close()
    scene = PresetScene()
    assert ready["defaults"] == {"scene": {"source": scene.source, "target": scene.target, "n": scene.n,
                                           "seed": scene.seed},
                                 "config": Config().model_dump()}
    assert set(ready["defaults"]["config"]) == set(Config.model_fields)
    assert ready["config"] == ready["defaults"]["config"]
    assert len(ready["scene"]["x0"]) == ready["defaults"]["scene"]["n"]
    assert (ready["scene"]["source"], ready["scene"]["target"]) == (scene.source, scene.target)


def test_the_server_defaults_are_those_the_page_showed() -> None:
    assert PresetScene().model_dump(exclude={"kind"}) == PAGE_SCENE
    assert PAGE_CONFIG.items() <= Config().model_dump().items()

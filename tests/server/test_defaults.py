"""One set of defaults: `ready.defaults` is what the server starts a session from, and what the page shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

import pytest
from live_client import LiveClient
from live_server import LiveServer
from rftoy.api.socket import HANDLERS
from rftoy.protocol import (
    CLIENT_TYPES,
    ClientMessage,
    Config,
    PresetScene,
    ProtocolError,
    limits_of,
    parse_client_message,
)
from rftoy.settings import Settings

# The page's settings table before it read them from `ready` (web/state.js DEFAULT_SETTINGS at the time).
PAGE_SCENE = {"source": "gaussian", "target": "moons", "n": 64, "seed": 0}
PAGE_CONFIG = {"width": 64, "depth": 3, "activation": "silu", "lr": 0.005, "time_sampling": "uniform", "warp_s": 1.0,
               "solver": "midpoint", "steps": 16, "mode": "pairs", "coupling": "independent"}
# What ready.limits held before the public limits were marked in the settings (docs/protocol.md, "ready").
PUBLIC_LIMITS = {"max_points", "max_width", "max_depth", "max_solver_steps", "max_message_bytes", "max_rounds",
                 "max_coordinate", "max_messages_per_second", "message_burst", "idle_timeout_s", "snapshot_hz",
                 "busy_snapshot_hz", "teacher_steps", "metrics_max_points", "max_trace_work"}


async def test_ready_carries_the_defaults_a_bare_hello_starts_from(launch: Callable[..., LiveServer]) -> None:
    live = launch()
    client = await LiveClient.open(live.ws_url)
    ready = await client.hello()
    await client.close()
    scene = PresetScene()
    assert ready["defaults"] == {"scene": {"source": scene.source, "target": scene.target, "n": scene.n,
                                           "seed": scene.seed, "placement": "apart"},
                                 "config": Config().model_dump()}
    assert set(ready["defaults"]["config"]) == set(Config.model_fields)
    assert ready["config"] == ready["defaults"]["config"]
    assert len(ready["scene"]["x0"]) == ready["defaults"]["scene"]["n"]
    assert (ready["scene"]["source"], ready["scene"]["target"]) == (scene.source, scene.target)
    assert ready["scene"]["placement"] == "apart"


def test_the_server_defaults_are_those_the_page_showed() -> None:
    # and the scene is now drawn side by side (docs/web.md, "Calm first view")
    assert PresetScene().model_dump(exclude={"kind"}) == {**PAGE_SCENE, "placement": "apart"}
    assert PAGE_CONFIG.items() <= Config().model_dump().items()


def test_ready_limits_are_the_settings_marked_public() -> None:
    settings = Settings(max_rounds=3, teacher_steps=5)
    limits = limits_of(settings)
    assert set(limits) == PUBLIC_LIMITS | {"bounds"}
    assert (limits["max_rounds"], limits["teacher_steps"]) == (3, 5)
    assert limits["message_burst"] == settings.max_messages_per_second  # 0 means one second's worth



def test_every_message_of_the_union_is_a_client_type_and_has_a_handler() -> None:
    members = get_args(get_args(ClientMessage)[0])
    assert sorted(CLIENT_TYPES) == sorted(get_args(model.model_fields["type"].annotation)[0] for model in members)
    assert set(HANDLERS) == set(members)
    with pytest.raises(ProtocolError) as refused:
        parse_client_message('{"type": "teleport"}', Settings())
    assert refused.value.code == "unknown_type" and refused.value.message.endswith(", ".join(CLIENT_TYPES))

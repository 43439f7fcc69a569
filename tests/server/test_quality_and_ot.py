"""Sample quality by steps in the metrics messages, and the OT round (issue 15), over a real websocket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from live_client import SMALL_NET, LiveClient, fields_of
from live_server import LiveServer

# overlaid: side by side, long near-parallel segments cross as sets more often, OT's among them (it keeps paths from
# meeting at the same time, not segments from crossing)
SCENE = {"kind": "preset", "source": "gaussian", "target": "moons", "n": 24, "seed": 3, "placement": "overlaid"}


async def quality_of(client: LiveClient, round_index: int, timeout: float = 20.0) -> dict[str, Any]:
    """The next metrics message of `round_index` that carries the sample quality."""
    return await client.where("metrics", lambda m: m["round"] == round_index and m["quality"] is not None, timeout)


def check_maps(quality: dict[str, Any], euler_steps: list[int], points: int) -> None:
    assert [entry["steps"] for entry in quality["euler"]] == euler_steps
    for entry in [*quality["euler"], quality["chosen"]]:
        assert isinstance(entry["w2"], float) and entry["w2"] > 0
        assert len(entry["points"]) == 2 * points
    assert quality["n"] == points


async def test_pairs_mode_quality_by_steps_and_the_distilled_rounds_own_numbers(
        launch: Callable[..., LiveServer]) -> None:
    live = launch(quality_interval_s=0.2)
    client = await LiveClient.open(live.ws_url)
    await client.hello(scene=SCENE, config=SMALL_NET)
    first = await quality_of(client, 0)
    quality = first["quality"]
    assert quality["against"] == "the scene's data points"
    check_maps(quality, [1, 2, 4, 8], 24)
    assert quality["chosen"]["method"] == "midpoint" and quality["chosen"]["steps"] == 16
    assert quality["floor"] > 0
    await client.wait("round_done", 30.0, round=0)
    teacher = (await quality_of(client, 0))["quality"]
    await client.send({"type": "distill"})
    distilled = (await quality_of(client, 1))["quality"]
    check_maps(distilled, [1], 24)
    assert distilled["chosen"]["method"] == "euler" and distilled["chosen"]["steps"] == 1
    assert distilled["chosen"]["points"] != teacher["euler"][0]["points"]
    await client.close()


async def test_online_quality_is_measured_against_fresh_target_samples(launch: Callable[..., LiveServer]) -> None:
    live = launch(quality_interval_s=0.2, quality_points=40)
    client = await LiveClient.open(live.ws_url)
    await client.hello(scene=SCENE, config={**SMALL_NET, "mode": "online", "batch": 64})
    quality = (await quality_of(client, 0))["quality"]
    assert quality["against"] == "fresh target samples"
    check_maps(quality, [1, 2, 4, 8], 40)
    await client.close()


async def test_the_pairing_control_makes_an_ot_round_to_compare_and_reflow_from(live: LiveServer) -> None:
    client = await LiveClient.open(live.ws_url)
    await client.hello(scene={**SCENE, "n": 64}, config=SMALL_NET)
    random_crossing = (await client.wait("metrics", round=0))["crossing"]["pairs"]
    await client.send({"type": "set_config", "config": {"coupling": "ot"}})
    assert (await client.wait("config"))["config"]["coupling"] == "ot"
    snapshot = await client.snapshot_where(lambda s: s.meta["round"] == 1)
    assert [r["name"] for r in snapshot.meta["rounds"]] == ["1-RF", "OT"]
    assert snapshot.meta["rounds"][1]["coupling"] == "ot"
    metrics = await client.wait("metrics", round=1)
    assert sorted(metrics["pairing"]) == list(range(64))
    assert metrics["crossing"]["pairs"] < 0.2 * random_crossing, (metrics["crossing"], random_crossing)
    # an edit re-pairs the moved point by exact assignment again
    await client.send({"type": "edit", "seq": 1, "moves": [{"cloud": "x1", "index": 0, "x": 2.5, "y": 2.5}]})
    edited = await client.snapshot_where(lambda s: s.meta["applied_seq"] == 1 and s.meta["round"] == 1)
    # the round's metrics after the edit and its round_done come in either order
    repaired, done = None, False
    while repaired is None or not done:
        message = fields_of(await client.next(30.0))
        if message["type"] == "metrics" and message["round"] == 1 and message["step"] >= edited.meta["step"]:
            repaired = message
        done = done or (message["type"] == "round_done" and message["round"] == 1)
    # a pairing that missed the moved point would be None
    assert sorted(repaired["pairing"]) == list(range(64)) and repaired["crossing"]["pairs"] < 0.2 * random_crossing
    await client.send({"type": "reflow"})
    reflowed = await client.snapshot_where(lambda s: s.meta["round"] == 2)
    assert [r["name"] for r in reflowed.meta["rounds"]] == ["1-RF", "OT", "OT 2-RF"]
    assert reflowed.meta["rounds"][2]["teacher"] == 1
    await client.send({"type": "select_round", "round": 0})
    assert (await client.wait("config"))["config"]["coupling"] == "independent"
    await client.send({"type": "set_config", "config": {"coupling": "ot"}})
    again = await client.snapshot_where(lambda s: s.meta["round"] == 1)
    assert len(again.meta["rounds"]) == 3, "the OT round again, not a new one"
    await client.close()


async def test_an_ot_round_online_trains_on_minibatch_ot_pairs(live: LiveServer) -> None:
    client = await LiveClient.open(live.ws_url)
    ready = await client.hello(scene=SCENE, config={**SMALL_NET, "mode": "online", "batch": 64,
                                                    "coupling": "ot"})
    assert ready["config"]["coupling"] == "ot"
    session = live.hub.sessions[ready["session_id"]]  # the minibatch sampler is an internal piece: no message shows it
    snapshot = await client.snapshot_where(lambda s: s.meta["step"] > 0)
    assert snapshot.meta["round"] == 1 and [r["name"] for r in snapshot.meta["rounds"]] == ["1-RF", "OT"]
    await client.send({"type": "pause"})
    await client.snapshot_where(lambda s: s.meta["state"] == "paused")  # no trainer draws meanwhile
    x0, x1 = session.rounds[1].sampler(64)
    cost = ((x1 - x0) ** 2).sum(1).mean()
    assert cost < ((x1[torch.randperm(64)] - x0) ** 2).sum(1).mean()  # the minibatch is OT-paired
    await client.close()

"""Scene and config changes, pairs added and removed, pause/resume/reset, isolation and disconnect cleanup."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest
import torch
from live_client import SMALL_NET, LiveClient, eventually, squared_cost
from live_server import LiveServer
from rftoy.engine.flow import flow_endpoints
from rftoy.engine.model import NetShape, VelocityMLP, import_weights

SCENE = {"kind": "preset", "source": "gaussian", "target": "circle", "n": 16, "seed": 4}


async def test_set_scene_and_set_config(live: LiveServer) -> None:
    client = await LiveClient.open(live.ws_url)
    await client.hello(scene=SCENE, config=SMALL_NET)
    await client.wait("snapshot")
    await client.send({"type": "set_scene", "scene": {"kind": "preset", "target": "heart", "n": 10, "seed": 9}})
    scene = (await client.wait("scene"))["scene"]
    assert scene["kind"] == "points" and len(scene["x1"]) == 10 and scene["target"] == "heart"
    snapshot = await client.snapshot_where(lambda s: s.meta["n"] == 10)
    np.testing.assert_allclose(snapshot.trajectories[0], np.array(scene["x0"], dtype=np.float32))
    await client.send({"type": "set_config", "config": {"steps": 5, "solver": "euler"}})
    config = (await client.wait("config"))["config"]
    assert config["steps"] == 5 and config["width"] == 16
    euler = await client.snapshot_where(lambda s: s.meta["solver"]["steps"] == 5)
    assert euler.trajectories.shape == (6, 10, 2) and euler.meta["solver"]["method"] == "euler"
    step = euler.meta["step"]
    await client.send({"type": "set_config", "config": {"lr": 0.02, "batch": 4}})
    config = (await client.wait("config"))["config"]
    assert (config["lr"], config["batch"], config["width"]) == (0.02, 4, 16)
    trained_on = await client.snapshot_where(lambda s: s.meta["step"] > step)
    assert trained_on.meta["round"] == 0 and len(trained_on.meta["rounds"]) == 1, "a new rate keeps the round"
    await client.send({"type": "set_config", "config": {"width": 8, "activation": "tanh"}})
    await client.wait("config")
    fresh = await client.snapshot_where(lambda s: s.meta["net"]["width"] == 8)
    assert fresh.meta["net"]["activation"] == "tanh"
    assert fresh.weights.shape == (3 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2,)
    await client.close()


async def test_add_and_remove_pairs(live: LiveServer) -> None:
    client = await LiveClient.open(live.ws_url)
    ready = await client.hello(scene=SCENE, config=SMALL_NET)
    x0 = np.array(ready["scene"]["x0"], dtype=np.float32)
    await client.send({"type": "add_pair", "seq": 1, "x0": [0.5, 0.25], "x1": [-2.0, 2.0]})
    added = await client.snapshot_where(lambda s: s.meta["applied_seq"] == 1)
    assert added.meta["n"] == 17
    np.testing.assert_allclose(added.trajectories[0, 16], [0.5, 0.25])
    await client.send({"type": "remove_pair", "seq": 2, "index": 0})
    await client.send({"type": "edit", "seq": 3, "moves": [{"cloud": "x0", "index": 15, "x": 1.0, "y": 1.0}]})
    removed = await client.snapshot_where(lambda s: s.meta["applied_seq"] == 3)
    assert removed.meta["n"] == 16
    np.testing.assert_allclose(removed.trajectories[0, :14], x0[1:15])
    np.testing.assert_allclose(removed.trajectories[0, 15], [1.0, 1.0])
    await client.send({"type": "add_pair", "seq": 4, "x0": [-0.5, 0.75], "x1": [0.0, 2.0], "index": 1})
    inserted = await client.snapshot_where(lambda s: s.meta["applied_seq"] == 4)
    np.testing.assert_allclose(inserted.trajectories[0, [0, 1, 2]], [x0[1], [-0.5, 0.75], x0[2]])
    await client.close()


async def test_pairs_change_under_a_reflow_round(live: LiveServer) -> None:
    """Round 1 trains on (x0, z1 of round 0): moving or adding an x0 re-traces the teacher for that point. The
    round's metrics report its pairs' cost, which a client recomputes from round 0's last weights."""
    client = await LiveClient.open(live.ws_url)
    await client.hello(scene=SCENE, config=SMALL_NET)
    converged = await client.snapshot_where(lambda s: s.meta["state"] == "idle", timeout=30)  # round 0 is final
    await client.send({"type": "reflow"})
    await client.snapshot_where(lambda s: s.meta["round"] == 1)
    await client.send({"type": "add_pair", "seq": 1, "x0": [0.1, 0.1], "x1": [2.0, 0.0]})
    await client.send({"type": "edit", "seq": 2, "moves": [{"cloud": "x0", "index": 2, "x": -1.0, "y": 0.5}]})
    edited = await client.snapshot_where(lambda s: s.meta["applied_seq"] == 2 and s.meta["round"] == 1)
    x0 = edited.trajectories[0]
    assert len(x0) == 17 and x0[2].tolist() == [-1.0, 0.5] and x0[16].tolist() == pytest.approx([0.1, 0.1])
    teacher = VelocityMLP(NetShape(SMALL_NET["width"], SMALL_NET["depth"], converged.meta["net"]["activation"]))
    import_weights(teacher, torch.from_numpy(converged.weights.copy()))
    with torch.no_grad():
        targets = flow_endpoints(teacher, torch.from_numpy(x0.copy()), live.settings.teacher_steps).numpy()
    cost = (await client.metrics_after(edited))["cost"]["pairs"]["sq"]
    assert cost == pytest.approx(squared_cost(x0, targets), rel=1e-5), "every pair's target is the teacher's z1"
    await client.close()


async def test_pause_resume_and_reset(live: LiveServer) -> None:
    client = await LiveClient.open(live.ws_url)
    await client.hello(scene=SCENE, config=SMALL_NET)
    await client.send({"type": "pause"})
    paused = await client.snapshot_where(lambda s: s.meta["state"] == "paused")
    await client.config()  # an empty set_config: a fresh snapshot, still at the paused step
    still = await client.snapshot_where(lambda s: s.meta["seq"] > paused.meta["seq"])
    assert (still.meta["state"], still.meta["step"]) == ("paused", paused.meta["step"])
    await client.send({"type": "resume"})
    resumed = await client.snapshot_where(lambda s: s.meta["step"] > paused.meta["step"])
    assert resumed.meta["state"] in ("training", "idle")
    await client.send({"type": "reflow"})
    await client.snapshot_where(lambda s: s.meta["round"] == 1)
    await client.send({"type": "pause"})
    await client.send({"type": "reset"})
    reset = await client.snapshot_where(lambda s: len(s.meta["rounds"]) == 1)
    assert (reset.meta["round"], reset.meta["step"], reset.meta["state"]) == (0, 0, "paused"), "a fresh 1-RF"
    await client.send({"type": "resume"})
    await client.snapshot_where(lambda s: s.meta["step"] > 0)
    await client.close()


async def test_two_sessions_are_isolated(live: LiveServer) -> None:
    a, b = await LiveClient.open(live.ws_url), await LiveClient.open(live.ws_url)
    ready_a = await a.hello(scene=SCENE, config=SMALL_NET)
    ready_b = await b.hello(scene=SCENE, config={"width": 8, "depth": 1})
    assert ready_a["session_id"] != ready_b["session_id"]
    await a.send({"type": "edit", "seq": 5, "moves": [{"cloud": "x0", "index": 0, "x": 3.0, "y": 3.0}]})
    await a.send({"type": "reflow"})
    moved = await a.snapshot_where(lambda s: s.meta["applied_seq"] == 5 and s.meta["round"] == 1)
    np.testing.assert_allclose(moved.trajectories[0, 0], [3.0, 3.0])
    other = await b.snapshot_where(lambda s: s.meta["seq"] >= 3)
    assert other.meta["applied_seq"] is None and len(other.meta["rounds"]) == 1
    assert other.meta["net"]["width"] == 8
    np.testing.assert_allclose(other.trajectories[0, 0], ready_b["scene"]["x0"][0])
    await a.close()
    await b.close()


async def test_disconnect_stops_training_and_leaks_nothing(live: LiveServer) -> None:
    baseline = threading.active_count()
    for _ in range(3):
        client = await LiveClient.open(live.ws_url)
        await client.hello(scene=SCENE, config=SMALL_NET)
        await client.wait("snapshot")
        await client.close()
        await eventually(live.settled)
        counters = live.metrics()
        await asyncio.sleep(0.1)
        after = live.metrics()
        assert (after["steps_total"], after["batched_trainer"]) == (counters["steps_total"],
                                                                   counters["batched_trainer"]), "nothing trains"
    assert threading.active_count() <= baseline + live.settings.train_workers


async def test_online_mode_trains_on_fresh_preset_samples(live: LiveServer) -> None:
    client = await LiveClient.open(live.ws_url)
    ready = await client.hello(scene=SCENE, config={**SMALL_NET, "mode": "online", "batch": 32})
    assert ready["config"]["mode"] == "online"
    session = live.hub.sessions[ready["session_id"]]
    first = await client.wait("snapshot")
    await client.snapshot_where(lambda s: s.meta["step"] >= first.meta["step"] + 5)
    assert session.rounds[0].sampler is not None
    await client.send({"type": "reflow"})
    reflowed = await client.snapshot_where(lambda s: s.meta["round"] == 1 and s.meta["step"] > 0)
    assert reflowed.meta["rounds"][1]["name"] == "2-RF"
    assert session.rounds[1].sampler_key == ("gaussian@left", "circle@right", True)  # drawn side by side
    await client.close()


async def test_snapshot_window_waits_for_acks_and_sends_the_freshest(launch) -> None:
    live = launch(converge_window=1_000_000, metrics_interval_s=0.05)  # keeps training: fresher snapshots come
    client = await LiveClient.open(live.ws_url)
    await client.hello(scene=SCENE, config=SMALL_NET, snapshot_window=1)
    first = await client.wait("snapshot")
    measured: set[int] = set()  # metrics are not held: each later step measured is a later snapshot made
    while len(measured) < 2:
        message = await client.next()
        assert isinstance(message, dict), "a snapshot came without an ack"
        if message["type"] == "metrics" and message["step"] > first.meta["step"]:
            measured.add(message["step"])
    await client.send({"type": "ack", "seq": first.meta["seq"] + 100})
    assert (await client.wait("error"))["code"] == "invalid"
    await client.send({"type": "ack", "seq": first.meta["seq"]})
    second = await client.wait("snapshot")
    assert second.meta["seq"] >= first.meta["seq"] + 2, "the waiting snapshot was replaced by fresher ones"
    await client.close()


async def test_online_pairs_online_keeps_training(live: LiveServer) -> None:
    """Switching online → pairs → online trains on the online sampler again (it was once lost: a 1011 close)."""
    client = await LiveClient.open(live.ws_url)
    ready = await client.hello(scene=SCENE, config={**SMALL_NET, "mode": "online", "batch": 32})
    session = live.hub.sessions[ready["session_id"]]
    step = (await client.wait("snapshot")).meta["step"]
    for mode in ("pairs", "online"):
        await client.send({"type": "set_config", "config": {"mode": mode}})
        assert (await client.wait("config"))["config"]["mode"] == mode
        step = (await client.snapshot_where(lambda s, after=step: s.meta["step"] > after)).meta["step"]
    step = (await client.snapshot_where(lambda s, after=step: s.meta["step"] > after)).meta["step"]
    assert session.rounds[0].sampler is not None  # an internal piece: no message says what a round samples
    await client.send({"type": "ping", "nonce": "alive"})
    assert (await client.wait("pong"))["nonce"] == "alive"
    await client.close()


async def test_a_diverged_round_is_reported_and_restarted(live: LiveServer) -> None:
    """Fault injection: NaN weights make the loss non-finite, as a too-high learning rate does on a long run."""
    client = await LiveClient.open(live.ws_url)
    ready = await client.hello(scene=SCENE, config=SMALL_NET)
    session = live.hub.sessions[ready["session_id"]]
    await client.send({"type": "pause"})
    await client.snapshot_where(lambda s: s.meta["state"] == "paused")
    with torch.no_grad():  # the fault is injected into the session's net: no message can break it
        for parameter in session.rounds[0].model.parameters():
            parameter.fill_(float("nan"))
    await client.send({"type": "resume"})
    error = await client.wait("error")
    assert error["code"] == "diverged" and "lower the learning rate" in error["message"]
    fresh = await client.snapshot_where(lambda s: s.meta["state"] == "idle")
    assert np.isfinite(fresh.weights).all() and np.isfinite(fresh.endpoints).all()
    await client.send({"type": "set_config", "config": {"lr": 0.001}})
    await client.wait("config")
    await client.snapshot_where(lambda s: s.meta["step"] > 0 and s.meta["loss"] is not None)
    await client.send({"type": "ping", "nonce": "alive"})
    assert (await client.wait("pong"))["nonce"] == "alive"
    await client.close()


async def test_set_config_with_unchanged_values_keeps_the_rounds(live: LiveServer) -> None:
    client = await LiveClient.open(live.ws_url)
    ready = await client.hello(scene=SCENE, config=SMALL_NET)
    await client.snapshot_where(lambda s: s.meta["step"] > 0)
    await client.send({"type": "reflow"})
    before = (await client.snapshot_where(lambda s: s.meta["round"] == 1)).meta["rounds"]
    same = {key: ready["config"][key] for key in ("width", "depth", "activation", "seed", "lr", "mode")}
    await client.send({"type": "set_config", "config": same})
    assert (await client.wait("config"))["config"] == ready["config"]
    after = (await client.wait("snapshot")).meta
    assert len(after["rounds"]) == 2 and after["round"] == 1
    assert after["rounds"][0]["step"] == before[0]["step"] > 0, "round 0 was not restarted"
    assert after["rounds"][1]["step"] >= before[1]["step"], "round 1 trains on"
    await client.close()


async def test_set_scene_reports_the_edits_it_dropped_as_applied(live: LiveServer) -> None:
    """Edits still pending when a new scene arrives are discarded; the next snapshot's applied_seq covers them."""
    client = await LiveClient.open(live.ws_url)
    await client.hello(scene=SCENE, config=SMALL_NET)
    await client.snapshot_where(lambda s: s.meta["state"] == "training")
    await client.send({"type": "edit", "seq": 7, "moves": [{"cloud": "x1", "index": 0, "x": 2.0, "y": 2.0}]})
    await client.send({"type": "set_scene", "scene": {**SCENE, "n": 12}})
    scene = (await client.wait("scene"))["scene"]
    assert len(scene["x0"]) == 12 and scene["x1"][0] != [2.0, 2.0]
    snapshot = await client.snapshot_where(lambda s: s.meta["n"] == 12)
    assert snapshot.meta["applied_seq"] == 7
    await client.close()

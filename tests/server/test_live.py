"""The live protocol end to end: real uvicorn, a real websockets client."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from live_client import SMALL_NET, LiveClient, Snapshot, fields_of, squared_cost
from live_server import LiveServer

SCENE = {"kind": "preset", "source": "gaussian", "target": "moons", "n": 24, "seed": 1}


@pytest.fixture(params=["batched", "per-session"])
def live(launch: Callable[..., LiveServer], request: pytest.FixtureRequest) -> LiveServer:
    """The protocol holds with either trainer."""
    return launch(trainer=request.param)


async def _open(live: LiveServer, **hello: object) -> tuple[LiveClient, dict]:
    client = await LiveClient.open(live.ws_url)
    ready = await client.hello(scene=SCENE, config=SMALL_NET, **hello)
    return client, ready


async def test_hello_ready_and_snapshots_with_frames(live: LiveServer) -> None:
    client, ready = await _open(live)
    assert ready["protocol"] == 1 and ready["limits"]["max_points"] == 512
    assert len(ready["scene"]["x0"]) == 24 and ready["config"]["width"] == 16
    snapshot = await client.wait("snapshot")
    meta = snapshot.meta
    assert meta["round"] == 0 and meta["applied_seq"] is None and meta["n"] == 24
    assert meta["net"] == {"width": 16, "depth": 2, "activation": "silu", "parameters": 3 * 16 + 16 + 16 * 16 + 16
                           + 16 * 2 + 2}
    steps = ready["config"]["steps"]
    assert len(meta["times"]) == steps + 1 and meta["times"][0] == 0.0 and meta["times"][-1] == 1.0
    assert snapshot.weights.shape == (meta["net"]["parameters"],)
    assert snapshot.trajectories.shape == (steps + 1, 24, 2)
    np.testing.assert_allclose(snapshot.trajectories[0], np.array(ready["scene"]["x0"], dtype=np.float32))
    np.testing.assert_array_equal(snapshot.trajectories[-1], snapshot.endpoints)
    later = await client.snapshot_where(lambda s: s.meta["step"] > meta["step"])
    assert later.meta["seq"] > meta["seq"]
    metrics = await client.wait("metrics")
    assert 0 <= metrics["crossing"]["pairs"] <= 1 and metrics["w2"] is not None
    await client.send({"type": "ping", "nonce": "abc"})
    assert (await client.wait("pong"))["nonce"] == "abc"
    await client.close()


async def test_edit_is_reflected_in_a_later_snapshot(live: LiveServer) -> None:
    client, ready = await _open(live)
    before = await client.wait("snapshot")
    await client.send({"type": "edit", "seq": 7, "moves": [{"cloud": "x0", "index": 3, "x": 2.5, "y": -1.0}]})
    after = await client.snapshot_where(lambda s: (s.meta["applied_seq"] or -1) >= 7)
    np.testing.assert_allclose(after.trajectories[0, 3], [2.5, -1.0])
    np.testing.assert_allclose(after.trajectories[0, 4], before.trajectories[0, 4])
    assert not np.allclose(after.endpoints[3], before.endpoints[3])
    await client.send({"type": "edit", "seq": 8, "moves": [{"cloud": "x1", "index": 3, "x": -2.0, "y": 2.0}]})
    edited = await client.snapshot_where(lambda s: s.meta["applied_seq"] == 8)
    assert edited.meta["step"] > after.meta["step"], "an edit makes the round train again"
    x1 = np.array(ready["scene"]["x1"])
    x1[3] = [-2.0, 2.0]
    cost = (await client.metrics_after(edited))["cost"]["pairs"]["sq"]
    assert cost == pytest.approx(squared_cost(edited.trajectories[0], x1), rel=1e-6), "the round trains on the new x1"
    await client.close()


async def test_edits_are_coalesced_newest_position_wins(live: LiveServer) -> None:
    client, _ = await _open(live)
    await client.wait("snapshot")
    await client.send({"type": "pause"})
    await client.snapshot_where(lambda s: s.meta["state"] == "paused")
    for seq in range(1, 61):
        point = seq % 2
        await client.send({"type": "edit", "seq": seq,
                           "moves": [{"cloud": "x0", "index": point, "x": seq / 10, "y": -seq / 10}]})
    seen = []
    last = await client.snapshot_where(lambda s: seen.append(s.meta["applied_seq"]) or s.meta["applied_seq"] == 60)
    assert len(seen) < 20, f"60 edits should coalesce into few snapshots, got {seen}"
    np.testing.assert_allclose(last.trajectories[0, 0], [6.0, -6.0], rtol=1e-6)
    np.testing.assert_allclose(last.trajectories[0, 1], [5.9, -5.9], rtol=1e-6)
    assert last.meta["state"] == "paused"
    await client.close()


async def test_goes_idle_after_convergence_and_wakes_on_edit(live: LiveServer) -> None:
    client, _ = await _open(live)
    done, idle, final_metrics = None, None, None
    while done is None or idle is None or final_metrics is None:
        message = await client.next(timeout=30)
        if isinstance(message, Snapshot):
            idle = message if message.meta["state"] == "idle" else idle
        elif message.get("type") == "round_done":
            done = message
        elif message.get("type") == "metrics" and done is not None and message["step"] == done["step"]:
            final_metrics = message
    assert done["round"] == 0 and done["name"] == "1-RF" and "crossing" in done["metrics"]
    steps = done["step"]
    assert idle.meta["step"] == steps and idle.meta["rounds"][0]["converged"]
    trained = live.metrics()["steps_total"]
    for _ in range(5):  # the last round's reports may still come, then nothing for half a second
        try:
            extra = await client.next(timeout=0.5)
        except TimeoutError:
            break
        assert fields_of(extra).get("step") == steps, f"an idle session sent {extra}"
    else:
        raise AssertionError("an idle session keeps sending")
    assert live.metrics()["steps_total"] == trained, "an idle session does not train"
    await client.send({"type": "edit", "seq": 1, "moves": [{"cloud": "x1", "index": 0, "x": 0.0, "y": 0.0}]})
    woke = await client.snapshot_where(lambda s: s.meta["applied_seq"] == 1)
    assert woke.meta["step"] > steps  # its state may already be idle again: a short window can re-converge
    await client.close()


async def test_reflow_distill_and_select_round(live: LiveServer) -> None:
    client, _ = await _open(live)
    first = await client.wait("round_done", timeout=30, round=0)
    await client.send({"type": "reflow"})
    reflowed = await client.snapshot_where(lambda s: s.meta["round"] == 1)
    assert [r["name"] for r in reflowed.meta["rounds"]] == ["1-RF", "2-RF"]
    done = await client.wait("round_done", timeout=30, round=1)
    assert done["kind"] == "rf"
    # 2-RF learns (x0, z1 of 1-RF): its pairing crosses less than the scene's random pairing.
    assert done["metrics"]["crossing"]["pairs"] < first["metrics"]["crossing"]["pairs"]
    await client.send({"type": "distill"})
    distilled = await client.snapshot_where(lambda s: s.meta["round"] == 2)
    assert distilled.meta["times"] == [0.0, 1.0] and distilled.trajectories.shape == (2, 24, 2)
    assert distilled.meta["solver"] == {"method": "euler", "steps": 1, "warp_s": 1.0}
    assert distilled.meta["rounds"][2]["kind"] == "distill"
    await client.wait("round_done", timeout=30, round=2)
    await client.send({"type": "reflow"})
    error = await client.wait("error")
    assert error["code"] == "state" and "distill" in error["message"]
    await client.send({"type": "select_round", "round": 0})
    shown = await client.snapshot_where(lambda s: s.meta["round"] == 0)
    assert shown.meta["state"] == "idle" and len(shown.meta["rounds"]) == 3
    await client.send({"type": "select_round", "round": 5})
    assert (await client.wait("error"))["code"] == "invalid"
    await client.close()

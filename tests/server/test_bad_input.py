"""Every kind of bad input gets an error naming the problem; the state and the connection survive."""

from __future__ import annotations

import asyncio

import pytest
from live_client import SMALL_NET, LiveClient, assert_unchanged, eventually
from live_server import LiveServer
from rftoy.engine.model import NetShape
from rftoy.settings import Settings
from websockets.exceptions import ConnectionClosed

SCENE = {"kind": "preset", "n": 8, "seed": 2}


async def _expect_error(client: LiveClient, message: dict | str | bytes, code: str, words: str) -> dict:
    error = await client.refused(message)
    assert error["code"] == code, error
    assert words in error["message"], error
    return error


BAD_AFTER_HELLO = [
    ("{not json", "bad_json", "not valid JSON"),
    ("[1, 2]", "bad_json", "JSON object"),
    ('{"type": "ping", "nonce": ' + "9" * 5000 + "}", "bad_json", "4300 digits"),
    ("[" * 100_000, "bad_json", "nested too deeply"),
    ({"type": "teleport"}, "unknown_type", "'teleport'"),
    ({"type": "ping", "nonce": "n" * 65}, "invalid", "ping.nonce"),
    ({"type": "ping", "nonce": {"big": [0] * 1000}}, "invalid", "ping.nonce"),
    ({"seq": 1}, "unknown_type", "None"),
    ({"type": "hello", "protocol": 1}, "state", "already said hello"),
    ('{"type": "edit", "seq": 1, "moves": [{"cloud": "x0", "index": 0, "x": NaN, "y": 0}]}', "invalid",
     "not a finite number"),
    ('{"type": "edit", "seq": 1, "moves": [{"cloud": "x0", "index": 0, "x": Infinity, "y": 0}]}', "invalid",
     "not a finite number"),
    ({"type": "edit", "seq": 1, "moves": [{"cloud": "x0", "index": 0, "x": 1e6, "y": 0}]}, "invalid",
     "outside ±100"),
    ({"type": "edit", "seq": 1, "moves": [{"cloud": "x2", "index": 0, "x": 0, "y": 0}]}, "invalid", "cloud"),
    ({"type": "edit", "seq": 1, "moves": [{"cloud": "x0", "index": 8, "x": 0, "y": 0}]}, "invalid",
     "out of range"),
    ({"type": "edit", "seq": 1, "moves": []}, "invalid", "moves"),
    ({"type": "edit", "moves": [{"cloud": "x0", "index": 0, "x": 0, "y": 0}]}, "invalid", "seq"),
    ({"type": "add_pair", "seq": 2, "x0": [0, 0], "x1": [1e9, 0]}, "invalid", "outside"),
    ({"type": "remove_pair", "seq": 3, "index": 99}, "invalid", "out of range"),
    ({"type": "add_pair", "seq": 4, "x0": [0, 0], "x1": [1, 1], "index": 9}, "invalid", "0 … 8"),
    ({"type": "set_scene", "scene": {"kind": "preset", "n": 100000}}, "invalid", "points must be between 2 and 512"),
    ({"type": "set_scene", "scene": {"kind": "preset", "source": "unicorn"}}, "invalid", "unknown preset"),
    ({"type": "set_scene", "scene": {"kind": "points", "x0": [[0, 0]] * 513, "x1": [[1, 1]] * 513}}, "invalid",
     "1 to 512"),
    ({"type": "set_scene", "scene": {"kind": "points", "x0": [[0, 0]], "x1": [[1, 1], [2, 2]]}}, "invalid",
     "pair i ↔ i"),
    ({"type": "set_scene", "scene": {"kind": "points", "x0": [[0, 0, 0]], "x1": [[1, 1]]}}, "invalid", "x0"),
    ({"type": "set_config", "config": {"width": 1000}}, "invalid", "width must be between 1 and 256"),
    ({"type": "set_config", "config": {"depth": 7}}, "invalid", "depth must be between 1 and 6"),
    ({"type": "set_config", "config": {"steps": 201}}, "invalid", "solver steps must be between 1 and 200"),
    ({"type": "set_config", "config": {"lr": -1}}, "invalid", "learning rate must be above 0 and at most 1"),
    ({"type": "set_scene", "scene": {"kind": "preset", "n": 1}}, "invalid", "points must be between 2 and 512"),
    ({"type": "set_config", "config": {"activation": "swish"}}, "invalid", "activation"),
    ({"type": "set_config", "config": {"colour": "red"}}, "invalid", "colour"),
    ({"type": "select_round", "round": 3}, "invalid", "no round 3"),
    ({"type": "distill", "extra": 1}, "invalid", "extra"),
    (b"\x00\x01binary", "binary", "binary frames"),
]


async def test_every_bad_message_gets_an_error_and_changes_nothing(live: LiveServer) -> None:
    client = await LiveClient.open(live.ws_url)
    await _expect_error(client, {"type": "edit", "seq": 0, "moves": [{"cloud": "x0", "index": 0, "x": 0,
                                                                      "y": 0}]}, "state", "send hello before")
    await _expect_error(client, {"type": "hello", "protocol": 2}, "version", "version 2 is not supported")
    await _expect_error(client, {"type": "hello", "protocol": 1, "scene_id": "nope"}, "not_found", "'nope'")
    ready = await client.hello(scene=SCENE, config=SMALL_NET)
    await client.send({"type": "pause"})
    paused = await client.snapshot_where(lambda s: s.meta["state"] == "paused")
    for message, code, words in BAD_AFTER_HELLO:
        error = await _expect_error(client, message, code, words)
        if isinstance(message, dict) and "seq" in message:
            assert error["seq"] == message["seq"]
    huge_echoes = (({"type": "t" * 100_000}, "unknown_type"), ({"type": "distill", "k" * 100_000: 1}, "invalid"))
    for huge, code in huge_echoes:
        assert len((await _expect_error(client, huge, code, "..."))["message"]) < 400
    await assert_unchanged(client, ready, paused)
    await client.send({"type": "ping", "nonce": 1})
    assert (await client.wait("pong"))["nonce"] == 1
    await client.close()


async def test_online_mode_needs_presets(live: LiveServer) -> None:
    client = await LiveClient.open(live.ws_url)
    await client.hello(scene={"kind": "points", "x0": [[0, 0], [1, 0]], "x1": [[0, 1], [1, 1]]}, config=SMALL_NET)
    await _expect_error(client, {"type": "set_config", "config": {"mode": "online"}}, "invalid",
                        "online mode samples fresh pairs")
    await client.send({"type": "set_scene", "scene": SCENE})
    await client.wait("scene")
    await client.send({"type": "set_config", "config": {"mode": "online"}})
    assert (await client.wait("config"))["config"]["mode"] == "online"
    await client.send({"type": "set_scene", "scene": {"kind": "points", "x0": [[0, 0]], "x1": [[1, 1]]}})
    assert (await client.wait("config"))["config"]["mode"] == "pairs"
    await client.close()


async def test_oversize_message_closes_with_1009(launch) -> None:
    live = launch(max_message_bytes=4096)
    client = await LiveClient.open(live.ws_url)
    await client.hello(scene=SCENE, config=SMALL_NET)
    await client.send({"type": "set_scene", "scene": {"kind": "points", "x0": [[0.5, 0.5]] * 300,
                                                      "x1": [[1.5, 1.5]] * 300}})
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await client.next()
    assert closed.value.rcvd.code == 1009
    await eventually(live.settled)


async def test_flood_closes_with_1008(launch) -> None:
    live = launch(max_messages_per_second=20)
    client = await LiveClient.open(live.ws_url)
    for nonce in range(60):
        await client.send({"type": "ping", "nonce": nonce})
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await client.next()
    assert closed.value.rcvd.code == 1008 and "flood" in closed.value.rcvd.reason


async def test_too_many_sessions_are_refused_politely(launch) -> None:
    live = launch(max_sessions=1)
    first = await LiveClient.open(live.ws_url)
    await first.hello(scene=SCENE, config=SMALL_NET)
    second = await LiveClient.open(live.ws_url)
    error = await second.wait("error")
    assert error["code"] == "server_full" and "1 sessions" in error["message"]
    with pytest.raises(ConnectionClosed) as closed:
        await second.next()
    assert closed.value.rcvd.code == 1013
    await first.close()
    await eventually(live.settled)
    third = await LiveClient.open(live.ws_url)
    await third.hello(scene=SCENE, config=SMALL_NET)
    await third.close()


async def test_a_connection_without_hello_is_closed(launch) -> None:
    """One deadline from the accept: pings (answered) do not restart it."""
    live = launch(hello_timeout_s=1.0)
    loop = asyncio.get_running_loop()
    client = await LiveClient.open(live.ws_url)
    opened = loop.time()
    with pytest.raises(ConnectionClosed) as closed:
        while loop.time() - opened < 10:
            await client.send({"type": "ping"})
            assert (await client.wait("pong"))["type"] == "pong"
            await asyncio.sleep(0.1)  # pacing, under the flood limit
    assert closed.value.rcvd.code == 1008 and "no hello" in closed.value.rcvd.reason
    assert loop.time() - opened < 5
    await eventually(live.settled)


@pytest.mark.parametrize(("trainer", "faulty"), [("batched", "rftoy.live.scheduler.prepare"),
                                                 ("per-session", "rftoy.live.session.run_chunk")])
async def test_a_failing_session_reports_and_closes(launch, monkeypatch: pytest.MonkeyPatch, trainer: str,
                                              faulty: str) -> None:
    """Fault injection: the chunk raises off the event loop, as a bug would, in either trainer."""
    live = launch(trainer=trainer)

    def broken_chunk(job: object) -> None:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(faulty, broken_chunk)
    client = await LiveClient.open(live.ws_url)
    await client.send({"type": "hello", "protocol": 1, "scene": SCENE, "config": SMALL_NET})
    error = await client.wait("error")
    assert error["code"] == "internal"
    with pytest.raises(ConnectionClosed) as closed:
        await client.next(timeout=5)
    assert closed.value.rcvd.code == 1011
    await eventually(live.settled)


async def test_work_limit_refuses_costly_scenes_and_nets(launch) -> None:
    live = launch(max_trace_work=1e6)
    client = await LiveClient.open(live.ws_url)
    await _expect_error(client, {"type": "hello", "protocol": 1, "scene": SCENE,
                                 "config": {"width": 64, "steps": 200, "solver": "rk4"}}, "invalid",
                        "multiply-adds")
    await client.hello(scene=SCENE, config=SMALL_NET)
    await _expect_error(client, {"type": "set_config", "config": {"steps": 200, "solver": "rk4"}}, "invalid",
                        "one snapshot would take")
    await _expect_error(client, {"type": "set_scene", "scene": {"kind": "preset", "n": 500}}, "invalid",
                        "500 points")
    await client.send({"type": "set_config", "config": {"steps": 40, "solver": "rk4"}})
    assert (await client.wait("config"))["config"]["steps"] == 40
    await _expect_error(client, {"type": "set_config", "config": {"width": 64}}, "invalid", "multiply-adds")
    await client.close()


async def test_work_limit_covers_training_steps_and_teachers(launch) -> None:
    """A training step (batch × 3 × weights), the online reflow pool and the teacher's trace of an added pair."""
    n, weights = 40, NetShape(16, 2, "gelu").parameter_count()
    live = launch(max_trace_work=n * live_settings_teacher_evals() * weights)
    scene = {**SCENE, "n": n}
    client = await LiveClient.open(live.ws_url)
    await _expect_error(client, {"type": "hello", "protocol": 1, "scene": scene,
                                 "config": {"width": 64, "depth": 3, "steps": 1, "solver": "euler"}},
                        "invalid", "one training step would take")
    # midpoint × 12 steps traces a snapshot in 24 evaluations per point, fewer than the teacher's 32
    await client.hello(scene=scene, config={**SMALL_NET, "mode": "online", "batch": 32, "steps": 12})
    await _expect_error(client, {"type": "reflow"}, "invalid", "filling the online reflow pool")
    await client.send({"type": "set_config", "config": {"mode": "pairs"}})
    await client.wait("config")
    await client.send({"type": "reflow"})
    reflowed = await client.snapshot_where(lambda s: s.meta["round"] == 1)
    assert [r["name"] for r in reflowed.meta["rounds"]] == ["1-RF", "2-RF"], "the refused reflow added no round"
    await _expect_error(client, {"type": "set_config", "config": {"mode": "online"}}, "invalid",
                        "filling the online reflow pool")
    teacher_work = (n + 1) * live_settings_teacher_evals() * weights
    error = await _expect_error(client, {"type": "add_pair", "seq": 1, "x0": [0, 0], "x1": [1, 1]}, "invalid",
                                f"tracing the teacher would take {teacher_work:.3g}")
    assert error["seq"] == 1
    assert (await client.config())["mode"] == "pairs"
    await client.send({"type": "edit", "seq": 2, "moves": [{"cloud": "x0", "index": 0, "x": 0.5, "y": 0.5}]})
    edited = await client.snapshot_where(lambda s: s.meta["applied_seq"] == 2)
    assert edited.meta["n"] == n and len(edited.meta["rounds"]) == 2, "the refused pair was not added"
    await client.close()


def live_settings_teacher_evals() -> int:
    """Net evaluations of a teacher trace per point: the default teacher_steps of rk4 (4 evaluations each)."""
    return Settings().teacher_steps * 4

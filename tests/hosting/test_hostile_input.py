"""Hostile input: every reply stays small, malformed headers get their documented error, types are strict,
and a fuzz run leaves no traceback in the server's log."""

from __future__ import annotations

import json
import logging
import random

import httpx
import pytest
from live_client import SMALL, SMALL_NET, SMALL_SCENE, LiveClient, assert_unchanged, fields_of

HUGE = 100_000
MOVE = {"cloud": "x0", "index": 0, "x": 0, "y": 0}

# Each message quotes (or used to quote) a huge client value in its error.
HUGE_ECHOES = [
    {"type": "set_scene", "scene": {"kind": "k" * HUGE}},
    {"type": "set_scene", "scene": {"kind": "preset", "source": "s" * HUGE}},
    {"type": "set_scene", "scene": {"kind": "preset", "k" * HUGE: 1}},
    {"type": "hello", "protocol": 1, "scene": {"kind": "preset", "target": "t" * HUGE}},
    {"type": "t" * HUGE},
]

LOOSE_TYPES = [
    ({"type": "edit", "seq": True, "moves": [MOVE]}, "edit.seq"),
    ({"type": "edit", "seq": "1", "moves": [MOVE]}, "edit.seq"),
    ({"type": "edit", "seq": 1.0, "moves": [MOVE]}, "edit.seq"),
    ({"type": "edit", "seq": 1, "moves": [{**MOVE, "x": "0.5"}]}, "edit.moves.0.x"),
    ({"type": "edit", "seq": 1, "moves": [{**MOVE, "y": False}]}, "edit.moves.0.y"),
    ({"type": "edit", "seq": 1, "moves": [{**MOVE, "index": "0"}]}, "edit.moves.0.index"),
    ({"type": "add_pair", "seq": 2, "x0": ["0", 0], "x1": [1, 1]}, "add_pair.x0.0"),
    ({"type": "set_config", "config": {"width": "16"}}, "set_config.config.width"),
    ({"type": "set_config", "config": {"lr": "0.01"}}, "set_config.config.lr"),
    ({"type": "set_config", "config": {"depth": True}}, "set_config.config.depth"),
    ({"type": "select_round", "round": True}, "select_round.round"),
    ({"type": "ack", "seq": True}, "ack.seq"),
]

SEQ_BOUND = [
    ({"type": "edit", "seq": 2**53, "moves": [MOVE]}, "edit.seq"),
    ({"type": "remove_pair", "seq": int("9" * 4000), "index": 0}, "remove_pair.seq"),
    ({"type": "ack", "seq": 2**53}, "ack.seq"),
]


async def test_errors_quote_client_values_short_before_and_after_hello(launch) -> None:
    served = launch()
    client = await LiveClient.open(served.ws_url)
    for message in HUGE_ECHOES:  # before hello
        error = await client.refused(message)
        assert error["code"] in ("invalid", "unknown_type") and len(json.dumps(error)) < 500, error
    await client.hello(scene=SMALL_SCENE, config=SMALL_NET)
    for message in HUGE_ECHOES[:3] + HUGE_ECHOES[4:]:
        error = await client.refused(message)
        assert error["code"] in ("invalid", "unknown_type") and len(json.dumps(error)) < 500, error
    await client.close()
    bodies = [{"scene": {"kind": "k" * HUGE}}, {"scene": {"kind": "preset", "k" * HUGE: 1}},
              {"scene": {"kind": "preset", "source": "s" * HUGE}}, {"scene": {"kind": "points", "x0": [[0, 0]],
                                                                              "x1": [[0, 0]], "q" * HUGE: 1}}]
    for body in bodies:
        answer = httpx.post(served.http_url + "/api/scenes", json=body, timeout=10)
        assert answer.status_code == 422 and len(answer.content) < 500, answer.text[:200]
    missing = served.get("/api/scenes/" + "a" * 4000)
    assert missing.status_code == 404 and len(missing.content) < 300
    served.assert_healthy()


async def test_loose_types_and_unbounded_seqs_are_refused_and_change_nothing(launch) -> None:
    served = launch()
    client = await LiveClient.open(served.ws_url)
    for protocol in ("1", True, 1.0):
        error = await client.refused({"type": "hello", "protocol": protocol})
        assert error["code"] == "invalid" and "hello.protocol" in error["message"], error
    ready = await client.hello(scene=SMALL_SCENE, config=SMALL_NET)
    await client.send({"type": "pause"})
    paused = await client.snapshot_where(lambda s: s.meta["state"] == "paused")
    for message, where in LOOSE_TYPES + SEQ_BOUND:
        error = await client.refused(message)
        assert error["code"] == "invalid" and error["in_reply_to"] == message["type"], (message, error)
        if message["type"] != "set_config":  # config errors name the setting in words (rftoy.protocol.bounds)
            assert error["message"].startswith(where + ":"), (message, error)
        seq = message.get("seq")
        assert error["seq"] == (seq if type(seq) is int and seq < 2**53 else None), error  # only valid seqs
    await assert_unchanged(client, ready, paused)
    await client.send({"type": "edit", "seq": 2**53 - 1, "moves": [{**MOVE, "x": 1}]})  # an int is a fine number
    await client.send({"type": "ping", "nonce": 7})
    await client.wait("pong")  # and no error on the way
    await client.close()
    served.assert_healthy()


@pytest.mark.parametrize("origin", ["http://[::1", "https://[", "http://host:port", "null", "file://"])
async def test_malformed_or_null_origins_get_the_origin_error_and_no_traceback(launch, origin: str,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    served = launch()
    caplog.set_level(logging.WARNING)
    client = await LiveClient.open(served.ws_url, Origin=origin)
    errors, code, reason = await client.refusal()
    assert (code, reason) == (1008, "origin") and errors[0]["code"] == "origin"
    assert not [record for record in caplog.records if record.exc_info], caplog.text
    served.assert_healthy()


async def test_null_origin_may_be_allowed_explicitly(launch) -> None:
    served = launch(allowed_origins="null")
    client = await LiveClient.open(served.ws_url, Origin="null")
    await client.hello(**SMALL)
    await client.close()
    served.assert_healthy()


@pytest.mark.parametrize("path", ["/", "/api/health", "/api/presets", "/api/metrics", "/index.html"])
def test_head_is_served_where_get_is(launch, path: str) -> None:
    served = launch()
    got = served.get(path)
    head = httpx.head(served.http_url + path, timeout=10)
    assert got.status_code == head.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]


def _fuzz_message(rng: random.Random) -> str:
    """A random message: a real type with random fields, values of every JSON kind, or broken JSON."""
    values = [None, True, -1, 2**70, 0.5, float("inf"), "x" * rng.randint(0, 3000), [], {}, [[0, 0]] * 3,
              {"kind": "points"}, {"kind": "preset", "n": "8"}]
    types = ["hello", "edit", "add_pair", "remove_pair", "set_scene", "set_config", "reflow", "distill",
             "select_round", "ping", "ack", "reset", None, 7]
    fields = ["seq", "moves", "scene", "config", "x0", "x1", "index", "round", "protocol", "nonce", "scene_id",
              "snapshot_window", "cloud"]
    message = {"type": rng.choice(types), **{rng.choice(fields): rng.choice(values) for _ in range(rng.randint(0, 4))}}
    text = json.dumps(message, allow_nan=True)
    return text[:rng.randint(0, len(text))] if rng.random() < 0.1 else text


async def test_a_fuzz_run_leaves_no_traceback(launch, caplog: pytest.LogCaptureFixture) -> None:
    served = launch(max_messages_per_second=1000)
    caplog.set_level(logging.WARNING)
    rng = random.Random(16)
    client = await LiveClient.open(served.ws_url)
    await client.hello(scene=SMALL_SCENE, config=SMALL_NET)
    for batch in range(30):
        for _ in range(10):
            await client.send(_fuzz_message(rng))
        await client.send({"type": "ping", "nonce": batch})
        while fields_of(await client.next(timeout=30)).get("nonce") != batch:  # read the replies, or the
            pass  # unread-replies bound closes the socket
    await client.close()
    for headers in ({"Origin": "http://[::1"}, {"Origin": "ht!tp://x"}, {"Origin": "https://a:99999"}):
        client = await LiveClient.open(served.ws_url, **headers)
        await client.close()
    assert not [record for record in caplog.records if record.exc_info], caplog.text
    served.assert_healthy()

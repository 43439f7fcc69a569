"""Every abuse limit trips with a clear error or close code, honest use never does, and the server stays healthy."""

from __future__ import annotations

import asyncio
import time

import httpx
from live_client import SMALL, LiveClient
from live_server import wait_until

POINTS = {"kind": "points", "x0": [[0.123 * i, -0.071 * i] for i in range(40)],
          "x1": [[-0.037 * i, 0.113 * i] for i in range(40)]}


async def test_honest_dragging_at_60_hz_with_acks_never_trips_the_token_bucket(launch) -> None:
    """Default limits: a page drags at 60 Hz and acks every snapshot for 1.5 s; then a flood is closed with 1008."""
    served = launch()
    client = await LiveClient.open(served.ws_url)
    await client.hello(**SMALL, snapshot_window=1)
    acks = asyncio.create_task(_ack_snapshots(client))
    for seq in range(1, 91):
        await client.send({"type": "edit", "seq": seq, "moves": [{"cloud": "x0", "index": 0, "x": seq / 90, "y": 0}]})
        await asyncio.sleep(1 / 60)
    assert not acks.done(), f"the honest client was cut off: {acks.exception() if acks.done() else ''}"
    acks.cancel()
    await asyncio.wait([acks])
    for nonce in range(2 * served.settings.message_burst):
        await client.send({"type": "ping", "nonce": nonce})
    errors, code, reason = await client.refusal()
    assert code == 1008 and "flood" in reason and not errors
    served.assert_healthy()


async def _ack_snapshots(client: LiveClient) -> None:
    while True:
        snapshot = await client.wait("snapshot", timeout=60)  # a loaded machine may be slow; the test is the bucket
        await client.send({"type": "ack", "seq": snapshot.meta["seq"]})


async def test_sessions_per_client_address_count_forwarded_addresses(launch) -> None:
    """Behind a trusted proxy (loopback), X-Forwarded-For names the client whose sessions are counted."""
    served = launch(max_sessions_per_client=2)
    first = [await LiveClient.open(served.ws_url, **{"X-Forwarded-For": "203.0.113.7"}) for _ in range(2)]
    for client in first:
        await client.hello(**SMALL)
    third = await LiveClient.open(served.ws_url, **{"X-Forwarded-For": "203.0.113.7"})
    errors, code, reason = await third.refusal()
    assert code == 1013 and reason == "too many sessions"
    assert errors[0]["code"] == "too_many_sessions" and "2 sessions" in errors[0]["message"]
    other = await LiveClient.open(served.ws_url, **{"X-Forwarded-For": "198.51.100.9"})
    await other.hello(**SMALL)
    assert served.get("/api/metrics").json()["refused_total"] == 1
    for client in [*first, other]:
        await client.close()
    served.assert_healthy()


async def test_an_idle_session_is_told_and_closed_with_1001(launch) -> None:
    """Pings and acks keep the socket alive but do not count as use: the idle timeout still ends the session."""
    served = launch(idle_timeout_s=0.6)
    client = await LiveClient.open(served.ws_url)
    await client.hello(**SMALL)
    started = time.monotonic()
    await client.send({"type": "ping", "nonce": 1})
    await client.wait("pong")
    errors, code, reason = await client.refusal()
    assert time.monotonic() - started >= 0.5
    assert code == 1001 and reason == "idle for 0.6 s"
    assert errors[-1]["code"] == "idle" and "reload" in errors[-1]["message"]
    served.assert_healthy()


def test_saved_scene_size_limit_is_a_clear_413(launch) -> None:
    served = launch(max_scene_bytes=2048)
    big = httpx.post(served.http_url + "/api/scenes", json={"scene": POINTS}, timeout=10)
    assert big.status_code == 413 and "over the limit of 2048" in big.json()["detail"]
    small = httpx.post(served.http_url + "/api/scenes", json={"scene": {**POINTS, "x0": POINTS["x0"][:3],
                                                                    "x1": POINTS["x1"][:3]}}, timeout=10)
    assert small.status_code == 200
    served.assert_healthy()


def test_saved_scenes_beyond_the_count_prune_the_oldest(launch) -> None:
    served = launch(max_saved_scenes=3)
    ids = [httpx.post(served.http_url + "/api/scenes", json={"scene": {**POINTS, "x0": POINTS["x0"][:2],
                                                                   "x1": POINTS["x1"][:2]}}).json()["id"]
           for _ in range(5)]
    assert [served.get(f"/api/scenes/{i}").status_code for i in ids] == [404, 404, 200, 200, 200]
    assert served.get("/api/metrics").json()["saved_scenes"] == 3
    served.assert_healthy()


def test_saved_scenes_expire(launch) -> None:
    served = launch(saved_scene_days=0.5 / 86400)
    scene_id = httpx.post(served.http_url + "/api/scenes", json={"scene": {**POINTS, "x0": POINTS["x0"][:2],
                                                                       "x1": POINTS["x1"][:2]}}).json()["id"]
    wait_until(lambda: served.get(f"/api/scenes/{scene_id}").status_code == 404)
    served.assert_healthy()


def test_scene_saves_per_client_are_rate_limited_with_retry_after(launch) -> None:
    served = launch(scene_saves_per_minute=3)
    body = {"scene": {**POINTS, "x0": POINTS["x0"][:2], "x1": POINTS["x1"][:2]}}
    codes = [httpx.post(served.http_url + "/api/scenes", json=body) for _ in range(4)]
    assert [r.status_code for r in codes] == [200, 200, 200, 429]
    assert "3 saved scenes per minute" in codes[-1].json()["detail"] and int(codes[-1].headers["retry-after"]) >= 1
    served.assert_healthy()

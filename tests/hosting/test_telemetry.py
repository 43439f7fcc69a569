"""One JSON log line per session start / end / refusal, and the figures of GET /api/metrics."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from hosting_client import hello, open_socket, refusal, send, wait_for


def test_session_lines_and_metrics(launch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="rftoy.events")
    served = launch(max_sessions_per_client=1, metrics_window_s=60)

    async def scenario() -> None:
        ws = await open_socket(served.ws_url, **{"X-Forwarded-For": "192.0.2.44"})
        ready = await hello(ws)
        for seq in range(1, 6):
            await send(ws, {"type": "edit", "seq": seq, "moves": [{"cloud": "x1", "index": 1, "x": seq / 5, "y": 0}]})
            while (await wait_for(ws, "snapshot"))["applied_seq"] != seq:
                pass
        await send(ws, {"type": "reflow"})
        await wait_for(ws, "snapshot")
        second = await open_socket(served.ws_url, **{"X-Forwarded-For": "192.0.2.44"})
        assert (await refusal(second))[1] == 1013
        metrics = served.get("/api/metrics").json()
        assert metrics["sessions"] == metrics["connections"] == metrics["sessions_total"] == 1
        assert metrics["refused_total"] == 1 and metrics["window_s"] == 60, metrics
        assert metrics["snapshots_per_s"] > 0 and metrics["steps_per_s"] > 0, metrics
        latency = metrics["latency_ms"]
        assert latency["samples"] == 5 and 0 < latency["p50"] <= latency["p95"], metrics
        await ws.close()
        return ready["session_id"]

    session_id = asyncio.run(scenario())
    served.assert_healthy()
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "rftoy.events"]
    start, refused, end = (next(e for e in events if e["event"] == kind)
                           for kind in ("session_start", "session_refused", "session_end"))
    assert start["session"] == end["session"] == session_id and start["client"] == "192.0.2.44"
    assert refused["code"] == "too_many_sessions"
    # At least one snapshot per awaited edit and one after the reflow; the first one after hello may be superseded.
    assert end["edits"] == 5 and end["rounds"] == 2 and end["snapshots"] >= 6 and end["steps"] > 0
    assert end["reason"] == "client left" and end["duration_s"] > 0 and end["errors"] == 0
    later = served.get("/api/metrics").json()
    assert later["sessions"] == 0 and later["steps_total"] == end["steps"]
    assert later["snapshots_total"] <= end["snapshots"]

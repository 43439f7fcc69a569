"""One JSON log line per session start / end / refusal, and the figures of GET /api/metrics."""

from __future__ import annotations

import json
import logging

import pytest
from live_client import SMALL, LiveClient


async def test_session_lines_and_metrics(launch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="rftoy.events")
    served = launch(max_sessions_per_client=1, metrics_window_s=60)
    client = await LiveClient.open(served.ws_url, **{"X-Forwarded-For": "192.0.2.44"})
    ready = await client.hello(**SMALL)
    for seq in range(1, 6):
        await client.send({"type": "edit", "seq": seq, "moves": [{"cloud": "x1", "index": 1, "x": seq / 5, "y": 0}]})
        await client.snapshot_where(lambda s, seq=seq: s.meta["applied_seq"] == seq)
    await client.send({"type": "reflow"})
    await client.wait("snapshot")
    second = await LiveClient.open(served.ws_url, **{"X-Forwarded-For": "192.0.2.44"})
    assert (await second.refusal())[1] == 1013
    metrics = served.metrics()
    assert metrics["sessions"] == metrics["connections"] == metrics["sessions_total"] == 1
    assert metrics["refused_total"] == 1 and metrics["window_s"] == 60, metrics
    assert metrics["snapshots_per_s"] > 0 and metrics["steps_per_s"] > 0, metrics
    latency = metrics["latency_ms"]
    assert latency["samples"] == 5 and 0 < latency["p50"] <= latency["p95"], metrics
    await client.close()
    session_id = ready["session_id"]
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

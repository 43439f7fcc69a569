"""What the server reports about itself: one JSON log line per session event, and the /api/metrics figures."""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from collections import deque
from typing import Any

EVENTS = logging.getLogger("rftoy.events")


def log_event(event: str, **fields: Any) -> None:
    """One JSON line: {"event": ..., "time": ..., **fields}."""
    EVENTS.info(json.dumps({"event": event, "time": round(time.time(), 3), **fields}, separators=(",", ":"),
                           default=str))


def show_events() -> None:
    """Print event lines to stderr, bare (the server's own use; tests capture the logger instead)."""
    if not EVENTS.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        EVENTS.addHandler(handler)
    EVENTS.setLevel(logging.INFO)
    EVENTS.propagate = False


class RateWindow:
    """Counts in one-second buckets; `rate()` is the mean per second over the last `window_s` seconds (the
    current second included)."""

    def __init__(self, window_s: float) -> None:
        self.seconds = max(1, math.ceil(window_s))
        self.buckets: deque[list[int]] = deque()
        self.total = 0

    def add(self, n: int = 1) -> None:
        now = int(time.monotonic())
        if self.buckets and self.buckets[-1][0] == now:
            self.buckets[-1][1] += n
        else:
            self.buckets.append([now, n])
        self.total += n
        self._trim(now)

    def rate(self) -> float:
        now = int(time.monotonic())
        self._trim(now)
        return sum(n for _, n in self.buckets) / self.seconds

    def _trim(self, now: int) -> None:
        while self.buckets and self.buckets[0][0] <= now - self.seconds:
            self.buckets.popleft()


class Telemetry:
    """Server-wide counters behind GET /api/metrics."""

    def __init__(self, window_s: float, latency_samples: int) -> None:
        self.window_s = window_s
        self.started = time.monotonic()
        self.snapshots = RateWindow(window_s)
        self.steps = RateWindow(window_s)
        self.latencies: deque[tuple[float, float]] = deque(maxlen=latency_samples)
        self.sessions_total = 0
        self.refused_total = 0

    def record_latency(self, seconds: float) -> None:
        self.latencies.append((time.monotonic(), seconds))

    def summary(self, sessions: int, connections: int) -> dict[str, Any]:
        since = time.monotonic() - self.window_s
        recent = sorted(s for at, s in self.latencies if at >= since)
        return {"sessions": sessions, "connections": connections, "sessions_total": self.sessions_total,
                "refused_total": self.refused_total, "window_s": self.window_s,
                "snapshots_per_s": round(self.snapshots.rate(), 2), "steps_per_s": round(self.steps.rate(), 1),
                "snapshots_total": self.snapshots.total, "steps_total": self.steps.total,
                "latency_ms": {"samples": len(recent), "p50": _percentile_ms(recent, 0.5),
                               "p95": _percentile_ms(recent, 0.95)},
                "uptime_s": round(time.monotonic() - self.started, 1)}


def _percentile_ms(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return round(1000 * ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)], 2)

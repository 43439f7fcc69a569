"""When a session measures its round's metrics, and their messages: measured on the metrics pool, on a frozen copy
of the net, while training goes on; sent as `metrics`, and `round_done` when the round converged."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future

from rftoy.engine.model import frozen_velocity
from rftoy.live.chunk import ChunkJob, ChunkResult
from rftoy.live.measures import measure
from rftoy.protocol.server import Measures, SessionMessage, metrics_message, metrics_of, round_done_message
from rftoy.settings import Settings


class MetricsReporter:
    """Measures a chunk's round when due and sends what it found. A measurement that raises is handed to `fail`
    (the session ends with it); nothing is sent once `stop` is set. `last_edit_at` is when the session last got
    an edit (perf_counter seconds): metrics, and the sample quality more so, wait while the user drags."""

    def __init__(self, settings: Settings, pool: Executor, send: Callable[[SessionMessage], None],
                 stop: threading.Event, fail: Callable[[BaseException], None]) -> None:
        self.settings = settings
        self.measuring: Future[Measures] | None = None
        self.last_edit_at = -math.inf
        self._pool = pool
        self._send = send
        self._stop = stop
        self._fail = fail
        self._last_metrics_at = -math.inf
        self._last_quality_at = -math.inf

    def due(self) -> bool:
        """Metrics wait while the user drags (an edit within the last interval), but never more than ten
        intervals, and while the last ones are still being computed."""
        now = time.perf_counter()
        since, interval = now - self._last_metrics_at, self.settings.metrics_interval_s
        if self.measuring is not None and not self.measuring.done():
            return False
        return since >= 10 * interval or (since >= interval and now - self.last_edit_at >= interval)

    def measure_later(self, job: ChunkJob, result: ChunkResult, converged: bool) -> None:
        """Compute the metrics on the pool, on a copy of the net, while training goes on; report when done. The
        sample-quality maps (five traces and exact W2s) wait until the user has stopped dragging for an interval, so
        a drag never pays for them."""
        self._last_metrics_at = now = time.perf_counter()
        points, interval = 0, self.settings.quality_interval_s
        dragging = now - self.last_edit_at < interval
        if converged or (now - self._last_quality_at >= interval and not dragging):
            self._last_quality_at, points = now, self.settings.quality_points
        loop = asyncio.get_running_loop()
        self.measuring = self._pool.submit(measure, job, result, frozen_velocity(job.round.shown), points)
        self.measuring.add_done_callback(
            lambda done: loop.call_soon_threadsafe(self._measured, job, result, converged, done))

    def _measured(self, job: ChunkJob, result: ChunkResult, converged: bool, done: Future[Measures]) -> None:
        if self._stop.is_set():
            return
        error = done.exception()
        if error is not None:
            self._fail(error)
            return
        meta = result.snapshot.meta
        metrics = metrics_of(round_index=meta["round"], step=meta["step"], loss=meta["loss"], found=done.result())
        self._send(metrics_message(metrics))
        if converged:
            self._send(round_done_message(kind=job.round.kind, name=job.round.name, metrics=metrics))

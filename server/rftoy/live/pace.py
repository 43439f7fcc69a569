"""Trace fidelity under load: a drag whose snapshots come too slowly is traced at a fraction of the cost.

A snapshot's trace is most of what a busy server spends on a session (several training steps' worth; docs/engine.md,
"Measurements behind the code"). When the server cannot keep a dragged
session at `floor_hz` snapshots per second, its drag snapshots are traced by Euler with half the config's steps
(rounded up) on the same warp: a quarter of the net evaluations of midpoint × 12, an eighth of rk4's. While the
user drags, the net itself is moving a step per snapshot, so its error dwarfs the solver's; the full trace is
back as soon as the drag ends or the server catches up. Each snapshot names the solver and steps that traced it.

`SnapshotPace` keeps a session's snapshots to `snapshot_hz`, counts them, and holds its `DragPace`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rftoy.engine.solvers import Method

EMA_WEIGHT = 0.25  # of the newest interval: one late snapshot is not a busy server; a second of them is
LEAVE_FRACTION = 0.5  # coarse traces end when drag snapshots come this much faster than the floor's interval


def coarse_solver(steps: int) -> tuple[Method, int]:
    """The solver and step count of a coarse trace for a config of `steps` steps: Euler on half, rounded up."""
    return "euler", math.ceil(steps / 2)


@dataclass
class DragPace:
    """The pace of one session's drag snapshots, and whether its next drag snapshots are traced coarse.

    Coarse tracing starts when the smoothed interval between drag snapshots exceeds 1 / `floor_hz`, and ends when
    it falls under `LEAVE_FRACTION` of that (the coarse traces run faster: without this margin they would
    alternate) or when a snapshot comes without an edit (the drag paused). `floor_hz` 0 never traces coarse."""

    floor_hz: float
    interval_s: float = 0.0
    last_at: float = -math.inf
    coarse: bool = False

    def record(self, now: float, during_drag: bool) -> None:
        """Note a snapshot sent at `now` (perf_counter seconds); `during_drag`: it carried edits."""
        if not during_drag or self.floor_hz <= 0:
            self.interval_s, self.last_at, self.coarse = 0.0, -math.inf, False
            return
        if self.last_at > -math.inf:
            interval = now - self.last_at
            self.interval_s = interval if self.interval_s == 0 else (
                EMA_WEIGHT * interval + (1 - EMA_WEIGHT) * self.interval_s)
            floor_interval = 1.0 / self.floor_hz
            if self.interval_s > floor_interval:
                self.coarse = True
            elif self.interval_s < LEAVE_FRACTION * floor_interval:
                self.coarse = False
        self.last_at = now


@dataclass
class SnapshotPace:
    """When a session's next snapshot may be sent (at most `hz` a second), how many were sent (`seq`), and how
    long their traces take (`solve_s`, smoothed)."""

    hz: float
    drag: DragPace
    seq: int = 0
    last_at: float = -math.inf
    solve_s: float = 0.0

    @property
    def next_allowed(self) -> float:
        return self.last_at + 1.0 / self.hz

    def sent(self, now: float, during_drag: bool, solve_s: float) -> int:
        """Note a snapshot sent at `now` whose trace took `solve_s`; its seq."""
        self.seq += 1
        self.last_at = now
        self.drag.record(now, during_drag)
        self.solve_s = 0.8 * self.solve_s + 0.2 * solve_s
        return self.seq

"""A drag whose snapshots come too slowly is traced by Euler on half the steps, and says so (rftoy.live.pace)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import threading
from collections.abc import Callable
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from live_client import SMALL_NET, LiveClient, Snapshot
from live_server import LiveServer
from rftoy.engine.flow import TrainConfig, Trainer
from rftoy.engine.model import NetShape, VelocityMLP, import_weights
from rftoy.engine.solvers import solve
from rftoy.live.chunk import ChunkJob, training_over
from rftoy.live.pace import DragPace, coarse_solver
from rftoy.protocol import Config

SCENE = {"kind": "preset", "source": "gaussian", "target": "moons", "n": 24, "seed": 1}
DRAG_PERIOD_S = 0.005  # an edit always waits when the session starts its next chunk
CHUNK_MS = 500.0  # and a chunk without one outlasts any hiccup of a loaded machine between edits


def test_pace_goes_coarse_below_the_floor_and_back_when_the_drag_ends() -> None:
    pace = DragPace(floor_hz=10)
    for second in (0.0, 0.05, 0.10, 0.15, 0.40):
        pace.record(second, during_drag=True)
    assert not pace.coarse, "20 snapshots/s is above the floor, and one late snapshot does not change that"
    for second in (0.7, 1.0, 1.3):
        pace.record(second, during_drag=True)
    assert pace.coarse, "3 snapshots/s is below it"
    pace.record(1.37, during_drag=True)
    assert pace.coarse, "coarse traces come faster; that alone does not end them"
    for k in range(1, 11):
        pace.record(1.37 + 0.02 * k, during_drag=True)
    assert not pace.coarse, "the server caught up: full traces again"
    for second in (2.0, 2.5, 3.0):
        pace.record(second, during_drag=True)
    assert pace.coarse
    pace.record(3.1, during_drag=False)
    assert not pace.coarse, "a snapshot without an edit: the drag paused"
    off = DragPace(floor_hz=0)
    for second in range(5):
        off.record(float(second), during_drag=True)
    assert not off.coarse


@pytest.mark.parametrize(("steps", "coarse_steps"), [(12, 6), (7, 4), (1, 1)])
def test_a_coarse_trace_is_euler_on_half_the_steps(steps: int, coarse_steps: int) -> None:
    assert coarse_solver(steps) == ("euler", coarse_steps)


def test_a_coarse_chunk_ends_after_one_training_step() -> None:
    """A busy server's drag snapshot follows a single step; a full-trace drag chunk trains until its deadline."""
    trainer = Trainer(VelocityMLP(NetShape(8, 1, "silu")), TrainConfig())
    points = torch.zeros(4, 2)
    job = ChunkJob(SimpleNamespace(trainer=trainer), points, points, Config(), train=True, fresh=True,
                   deadline=math.inf, meta={}, stop=threading.Event(), edited=threading.Event(), teacher_steps=8,
                   metrics_max_points=512, device=torch.device("cpu"), coarse=True)
    trainer.step(points, points + 1)
    assert training_over(job) == (True, False)
    assert training_over(replace(job, coarse=False)) == (False, False)


def _traced_by(snapshot: Snapshot, method: str) -> bool:
    """The snapshot's trajectories are its own weights traced by `method` on its grid."""
    model = VelocityMLP(NetShape(SMALL_NET["width"], SMALL_NET["depth"], snapshot.meta["net"]["activation"]))
    import_weights(model, torch.from_numpy(snapshot.weights.copy()))
    solver = snapshot.meta["solver"]
    with torch.no_grad():
        points = solve(model, torch.from_numpy(snapshot.trajectories[0].copy()), solver["steps"], method,
                       solver["warp_s"]).points
    return bool(np.allclose(points.numpy(), snapshot.trajectories, atol=1e-4))


async def _drag(client: LiveClient) -> None:
    """Move x0[2] around a circle until cancelled, an edit every DRAG_PERIOD_S."""
    for seq in itertools.count(1):
        angle = seq / 20
        await client.send({"type": "edit", "seq": seq,
                           "moves": [{"cloud": "x0", "index": 2, "x": math.cos(angle), "y": math.sin(angle)}]})
        await asyncio.sleep(DRAG_PERIOD_S)


@pytest.mark.parametrize("trainer", ["batched", "per-session"])
async def test_a_slow_drag_gets_coarse_traces_that_name_their_solver(launch: Callable[..., LiveServer],
                                                                trainer: str) -> None:
    """With a floor no server meets, drag snapshots come traced by Euler × 3 (the config says midpoint × 6),
    truthfully; once the drag stops, midpoint traces are back (after more training, or at once if the round
    converged)."""
    live = launch(trainer=trainer, busy_snapshot_hz=1000.0, chunk_ms=CHUNK_MS)
    client = await LiveClient.open(live.ws_url)
    await client.hello(scene=SCENE, config={**SMALL_NET, "solver": "midpoint", "steps": 6})
    await client.wait("snapshot")
    dragging = asyncio.create_task(_drag(client))
    coarse = await client.snapshot_where(lambda s: s.meta["solver"]["method"] == "euler")
    assert coarse.meta["applied_seq"] is not None and coarse.meta["coarse"] is True
    assert coarse.meta["solver"]["steps"] == 3 and coarse.trajectories.shape == (4, 24, 2)
    assert _traced_by(coarse, "euler") and not _traced_by(coarse, "midpoint")
    dragging.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await dragging
    full = await client.snapshot_where(lambda s: s.meta["solver"]["method"] == "midpoint")
    assert full.meta["seq"] > coarse.meta["seq"] and _traced_by(full, "midpoint") and full.meta["coarse"] is False
    await client.close()


async def test_without_a_floor_a_drag_keeps_the_configured_solver(launch: Callable[..., LiveServer]) -> None:
    live = launch(busy_snapshot_hz=0.0, chunk_ms=CHUNK_MS)
    client = await LiveClient.open(live.ws_url)
    await client.hello(scene=SCENE, config={**SMALL_NET, "solver": "midpoint", "steps": 6})
    first = await client.wait("snapshot")
    dragging = asyncio.create_task(_drag(client))
    methods = set()
    for _ in range(8):
        snapshot = await client.snapshot_where(lambda s: s.meta["applied_seq"] is not None)
        methods.add(snapshot.meta["solver"]["method"])
    dragging.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await dragging
    assert methods == {"midpoint"} and first.meta["solver"]["method"] == "midpoint"
    await client.close()

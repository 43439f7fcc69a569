"""A chunk run alone, and the messages built from it: the keys docs/protocol.md shows, in its order."""

from __future__ import annotations

import json
import math
import threading

import torch
from live_messages import SETTINGS
from rftoy.engine.model import frozen_velocity
from rftoy.live.chunk import ChunkJob, run_chunk
from rftoy.live.measures import measure
from rftoy.live.rounds import RoundStack
from rftoy.protocol import Config, dumps
from rftoy.protocol.server import (
    metrics_message,
    metrics_of,
    net_info,
    round_done_message,
    snapshot_head,
    snapshot_message,
    solver_info,
)

SNAPSHOT_KEYS = ["type", "round", "applied_seq", "net", "solver", "coarse", "step", "loss", "times", "n", "frames",
                 "seq", "state", "rounds"]
MEASURE_KEYS = ["crossing", "cost", "straightness", "w2", "energy"]


def _job(coupling: str = "independent") -> ChunkJob:
    config = Config(width=8, depth=1, solver="midpoint", steps=3, batch=8, coupling=coupling)
    stack = RoundStack(SETTINGS, torch.device("cpu"), config)
    gen = torch.Generator().manual_seed(0)
    x0, x1 = torch.randn(12, 2, generator=gen), torch.randn(12, 2, generator=gen)
    head = snapshot_head(round_index=stack.selected, applied_seq=None, solver=solver_info(method="midpoint", steps=3,
                         warp_s=1.0), net=net_info(width=8, depth=1, activation="silu", parameters=50), coarse=False)
    return ChunkJob(round=stack.current, x0=x0, x1=x1, config=config, train=True, fresh=True,
                    deadline=-math.inf, meta=head, stop=threading.Event(), edited=threading.Event(),
                    teacher_steps=8, metrics_max_points=512, device=torch.device("cpu"))


def test_a_chunk_trains_traces_and_its_snapshot_message_has_the_documented_keys() -> None:
    job = _job()
    result = run_chunk(job)
    assert result.steps == 1 and job.round.trainer.steps_done == 1  # past its deadline: one step, then the trace
    snapshot = result.snapshot
    assert [kind.name for kind, _ in snapshot.arrays] == ["WEIGHTS", "TRAJECTORIES", "ENDPOINTS"]
    message = snapshot_message(snapshot.meta, seq=1, state="training", rounds=[job.round.summary(0)])
    assert list(message) == SNAPSHOT_KEYS
    assert message["frames"] == [{"kind": "weights", "shape": [50]}, {"kind": "trajectories", "shape": [4, 12, 2]},
                                 {"kind": "endpoints", "shape": [12, 2]}]
    assert message["n"] == 12 and len(message["times"]) == 4 and message["step"] == 1
    assert json.loads(dumps(message)) == message, "plain JSON data"


def test_metrics_and_round_done_carry_the_same_figures() -> None:
    job = _job()
    result = run_chunk(job)
    found = measure(job, result, frozen_velocity(job.round.model), quality_points=8)
    assert list(found) == [*MEASURE_KEYS, "quality"]
    assert [e["steps"] for e in found["quality"]["euler"]] == [1, 2, 4, 8]
    assert list(found["quality"]["chosen"]) == ["method", "steps", "w2", "points"]
    meta = result.snapshot.meta
    metrics = metrics_of(round_index=meta["round"], step=meta["step"], loss=meta["loss"], found=found)
    sent = metrics_message(metrics)
    assert list(sent) == ["type", "round", "step", "loss", *MEASURE_KEYS, "quality"]
    done = round_done_message(kind="rf", name="1-RF", metrics=metrics)
    assert done == {"type": "round_done", "round": 0, "kind": "rf", "name": "1-RF", "step": 1, "metrics": metrics}


def test_an_ot_rounds_metrics_carry_its_pairing_before_the_quality() -> None:
    job = _job("ot")
    result = run_chunk(job)
    found = measure(job, result, frozen_velocity(job.round.model))
    assert list(found) == [*MEASURE_KEYS, "pairing", "quality"] and found["quality"] is None
    assert sorted(found["pairing"]) == list(range(12)), "a permutation of the scene's x1"

"""A round's metrics as of one snapshot (docs/protocol.md, 'metrics'), measured on the metrics pool, off the
training path, on a frozen copy of the net: crossings, transport costs, straightness, W2 and energy to the
target, the OT pairing, and (now and then) the sample quality by steps."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from rftoy.engine import data, metrics
from rftoy.engine.solvers import Velocity
from rftoy.live.chunk import ChunkJob, ChunkResult
from rftoy.protocol.server import Measures, Quality, chosen_sample, euler_sample, measures, quality_report

QUALITY_STEPS = (1, 2, 4, 8)  # the Euler steps of the sample-quality strip
QUALITY_SEED = 4242  # the fixed draws that online quality is measured on, and the floor's fresh draws
FLOOR_REPEATS = 2


def measure(job: ChunkJob, result: ChunkResult, velocity: Velocity, quality_points: int = 0) -> Measures:
    """Worker thread: the metrics of a chunk's round (its net as of the snapshot: `velocity`), pairing and
    trajectories; with `quality_points`, the sample quality by steps on that many points too."""
    trajectory, pairs_x1 = result.trajectory, result.pairs_x1
    x0, z1 = trajectory.points[0], trajectory.end
    pairs_sq, pairs_abs = metrics.transport_cost(x0, pairs_x1)
    flow_sq, flow_abs = metrics.transport_cost(x0, z1)
    straightness = None
    if job.round.kind == "rf":
        s, s_norm = metrics.straightness(velocity, trajectory)
        straightness = {"s": s, "s_norm": s_norm}
    w2 = energy = None
    if len(x0) <= job.metrics_max_points and bool(z1.isfinite().all()):
        target = job.x1.to(z1.device)
        w2, energy = metrics.wasserstein2(z1, target), metrics.energy_distance(z1, target)
    ot = job.round.coupling == "ot" and job.round.teacher is None
    return measures(
        crossing={"pairs": metrics.crossing_fraction(x0, pairs_x1), "flow": metrics.crossing_fraction(x0, z1)},
        cost={"pairs": {"sq": pairs_sq, "abs": pairs_abs}, "flow": {"sq": flow_sq, "abs": flow_abs}},
        straightness=straightness, w2=w2, energy=energy, ot=ot,
        pairing=_row_order(pairs_x1.cpu(), job.x1) if ot else None,
        quality=quality(job, velocity, quality_points) if quality_points else None)


def _row_order(permuted: torch.Tensor, rows: torch.Tensor) -> list[int] | None:
    """For each row of `permuted`, its index in `rows` (the OT round's pairing as indices), or None if a row is
    missing (the scene changed since)."""
    where = {tuple(row): i for i, row in enumerate(rows.tolist())}
    order = [where.get(tuple(row)) for row in permuted.tolist()]
    return None if None in order else order


def quality(job: ChunkJob, velocity: Velocity, points: int) -> Quality:
    """Samples of the round's flow at 1, 2, 4, 8 Euler steps and at the chosen solver (a distilled model: one
    step), their W2 to the target and the W2 floor (docs/protocol.md, 'metrics').

    Pairs mode measures against the scene's data points (a fixed subset of `points` pairs, the flow started from
    their noise points); online mode against `points` fresh target samples from a fixed seed, the flow started
    from as many fresh source samples. The floor is what fresh draws of the target preset score against the same
    set (None for drawn data, which has no preset)."""
    c = job.config
    online = c.mode == "online" and job.source is not None and job.target is not None
    if online:
        gen = data.generator(QUALITY_SEED)
        x0, target = data.sample(job.source, points, gen), data.sample(job.target, points, gen)
    else:
        pick = _subset(len(job.x0), points)
        x0, target = (job.x0, job.x1) if pick is None else (job.x0[pick], job.x1[pick])
    distilled = job.round.kind == "distill"
    euler_steps = (1,) if distilled else QUALITY_STEPS
    method, steps, warp_s = ("euler", 1, 1.0) if distilled else (c.solver, c.steps, c.warp_s)
    found = metrics.sample_quality(velocity, x0.to(job.device), target.to(job.device), euler_steps, method, steps,
                                   warp_s)
    chosen = found["chosen"]
    floor = _floor(job.target, target.numpy().tobytes()) if job.target is not None else None
    return quality_report(
        against="fresh target samples" if online else "the scene's data points", n=len(target), floor=floor,
        euler=[euler_sample(steps=e["steps"], w2=e["w2"], points=_flat(e["samples"])) for e in found["euler"]],
        chosen=chosen_sample(method=chosen["method"], steps=chosen["steps"], w2=chosen["w2"],
                             points=_flat(chosen["samples"])))


def _subset(n: int, points: int) -> torch.Tensor | None:
    """A fixed subset of `points` of n pair indices (None: all of them)."""
    if n <= points:
        return None
    return torch.randperm(n, generator=data.generator(QUALITY_SEED))[:points].sort().values


@lru_cache(maxsize=64)
def _floor(target_name: str, target_bytes: bytes) -> float:
    """The W2 floor of a target set (held as bytes, so a set is measured once): metrics.w2_floor."""
    target = torch.from_numpy(np.frombuffer(target_bytes, dtype=np.float32).reshape(-1, 2).copy())
    return metrics.w2_floor(target, target_name, data.generator(QUALITY_SEED + 1), FLOOR_REPEATS)


def _flat(samples: torch.Tensor) -> list[float] | None:
    """Sample points as a flat [x, y, x, y, …] list rounded to 1/1000 (small JSON), or None if not finite."""
    array = samples.detach().cpu().numpy()
    if not np.isfinite(array).all():
        return None
    return np.round(array.astype(np.float64), 3).reshape(-1).tolist()

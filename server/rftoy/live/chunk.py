"""A training chunk: the unit of work a session hands to a trainer, and the snapshot that ends it.

A chunk trains one round of one session for a while (until its deadline, convergence, or an edit), then traces
every scene point for the snapshot. `run_chunk` does all of it alone in a worker thread (the per-session
trainer); the batched trainer (`rftoy.live.scheduler`) does the same phases with many chunks at once, through
`prepare`, `training_over`, `trace_request` and `finish`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from rftoy.engine import data, metrics
from rftoy.engine.flow import PairSampler, fixed_pair_sampler, flow_endpoints, ot_assignment
from rftoy.engine.model import VelocityMLP, flat_weights
from rftoy.engine.solvers import Method, Trajectory, Velocity, solve
from rftoy.engine.transfer import to_host
from rftoy.protocol import Config, FrameKind

if TYPE_CHECKING:
    from rftoy.live.session import Round

OT_BLOCK = 256  # the OT round's pairs: exact assignment of up to this many points, in index blocks above
QUALITY_STEPS = (1, 2, 4, 8)  # the Euler steps of the sample-quality strip
QUALITY_SEED = 4242  # the fixed draws that online quality is measured on, and the floor's fresh draws
FLOOR_REPEATS = 2


@dataclass
class Snapshot:
    """A snapshot message's metadata and its arrays, in frame order."""

    meta: dict[str, Any]
    arrays: list[tuple[FrameKind, np.ndarray]]


@dataclass
class ChunkJob:
    """What one chunk needs; built under the session's lock, so nothing in it changes while it runs.

    A chunk that starts with freshly applied edits (`fresh`) always ends in a snapshot; any other training
    chunk stops early, without a snapshot, as soon as an edit arrives (`edited`), so the edit is applied at once.
    A `coarse` chunk (a drag on a busy server, rftoy.live.pace) takes one training step, and its snapshot is traced by
    Euler on half the steps.
    """

    round: Round
    x0: torch.Tensor
    x1: torch.Tensor
    config: Config
    train: bool
    fresh: bool
    deadline: float
    meta: dict[str, Any]
    stop: threading.Event
    edited: threading.Event
    teacher_steps: int
    metrics_max_points: int
    device: torch.device
    coarse: bool = False
    source: str | None = None
    target: str | None = None


@dataclass
class ChunkResult:
    snapshot: Snapshot | None
    trajectory: Trajectory | None
    pairs_x1: torch.Tensor
    converged_now: bool
    targets: torch.Tensor | None
    solve_s: float
    steps: int


@dataclass
class Prepared:
    """A chunk's pairs on the device, the refreshed teacher targets (if any), and where its trainer started."""

    x0: torch.Tensor
    pairs_x1: torch.Tensor
    targets: torch.Tensor | None
    sampler: PairSampler | None
    steps_before: int
    was_converged: bool


@dataclass(frozen=True)
class TraceRequest:
    """One trace a snapshot needs: the net, its start points, and the solver grid."""

    model: VelocityMLP
    x0: torch.Tensor
    steps: int
    method: Method
    warp_s: float


def prepare(job: ChunkJob) -> Prepared:
    """Worker thread: refresh the teacher targets of edited points, and pick the chunk's pair sampler."""
    round_ = job.round
    x0 = job.x0.to(job.device)
    targets = None
    if round_.teacher is not None and round_.stale is not None and bool(round_.stale.any()):
        targets = round_.targets.clone()
        stale = round_.stale
        targets[stale] = flow_endpoints(round_.teacher, x0[stale.to(job.device)], job.teacher_steps).cpu()
    elif round_.coupling == "ot" and round_.teacher is None and (round_.targets is None or bool(round_.stale.any())):
        targets = job.x1[ot_order(job.x0, job.x1)]
    pairs_x1 = (targets if targets is not None else round_.targets if round_.targets is not None else job.x1)
    pairs_x1 = pairs_x1.to(job.device)
    sampler = None
    if job.train:
        sampler = round_.sampler if job.config.mode == "online" else fixed_pair_sampler(x0, pairs_x1, round_.pair_gen)
    trainer = round_.trainer
    return Prepared(x0, pairs_x1, targets, sampler, trainer.steps_done, trainer.converged)


def ot_order(x0: torch.Tensor, x1: torch.Tensor, block: int = OT_BLOCK) -> torch.Tensor:
    """Indices p with (x0[i], x1[p[i]]) the OT round's pairing: exact assignment on squared distances for up to
    `block` points; above, exact within consecutive blocks of `block` pairs (minibatch OT: an exact assignment costs
    O(n³), over 2 s at 1024 points on a busy CPU)."""
    parts = [start + ot_assignment(x0[start:start + block], x1[start:start + block]).cpu()
             for start in range(0, len(x0), block)]
    return torch.cat(parts)


def training_over(job: ChunkJob) -> tuple[bool, bool]:
    """After a step: (stop training, interrupted by an edit). The batched trainer logs its losses only once this
    says stop, so it sees convergence at the chunk's end rather than at the step."""
    trainer = job.round.trainer
    if job.stop.is_set() or trainer.converged or job.coarse or time.perf_counter() >= job.deadline:
        return True, False
    if not job.fresh and job.edited.is_set():
        return True, True
    return False, False


def trace_request(job: ChunkJob, x0: torch.Tensor) -> TraceRequest:
    """The snapshot's trace, on the solver its metadata names (the session picks it: the config's, Euler on half
    the steps for a coarse chunk, one Euler step for a distilled model)."""
    solver = job.meta["solver"]
    return TraceRequest(job.round.model, x0, solver["steps"], solver["method"], solver["warp_s"])


def interrupted(job: ChunkJob, prepared: Prepared) -> ChunkResult:
    """The result of a chunk an edit cut short: no snapshot, the edit is applied next."""
    steps = job.round.trainer.steps_done - prepared.steps_before
    return ChunkResult(None, None, prepared.pairs_x1, False, prepared.targets, 0.0, steps)


def finish(job: ChunkJob, prepared: Prepared, trajectory: Trajectory, solve_s: float,
           weights: np.ndarray | None = None) -> ChunkResult:
    """The snapshot of a traced chunk: metadata, then the weights, trajectories and endpoints frames. `weights`:
    the net's flat weights as traced, on the host, when the caller has them (a batched trace does)."""
    round_, trainer = job.round, job.round.trainer
    meta = dict(job.meta, step=trainer.steps_done, loss=trainer.losses[-1] if trainer.losses else None,
                times=trajectory.times.tolist(), n=len(prepared.x0))
    kinds = (FrameKind.WEIGHTS, FrameKind.TRAJECTORIES, FrameKind.ENDPOINTS)
    if weights is None:
        host = to_host([flat_weights(round_.model), trajectory.points, trajectory.end])
    else:
        host = [weights, *to_host([trajectory.points, trajectory.end])]
    arrays = list(zip(kinds, host, strict=True))
    meta["frames"] = [{"kind": kind.name.lower(), "shape": list(array.shape)} for kind, array in arrays]
    converged_now = trainer.converged and not prepared.was_converged
    steps = trainer.steps_done - prepared.steps_before
    return ChunkResult(Snapshot(meta, arrays), trajectory, prepared.pairs_x1, converged_now, prepared.targets,
                       solve_s, steps)


def run_chunk(job: ChunkJob) -> ChunkResult | None:
    """Worker thread, one session alone: prepare, train until the chunk is over, then trace.

    Returns None when the session closed meanwhile (its `stop` flag is checked between steps)."""
    prepared = prepare(job)
    trainer = job.round.trainer
    if job.train and not job.stop.is_set():
        over = cut = False
        while not over:
            trainer.step(*prepared.sampler(job.config.batch))
            over, cut = training_over(job)
        if cut:
            return interrupted(job, prepared)
    if job.stop.is_set():
        return None
    request = trace_request(job, prepared.x0)
    started = time.perf_counter()
    trajectory = solve(request.model, request.x0, request.steps, request.method, request.warp_s)
    return finish(job, prepared, trajectory, time.perf_counter() - started)


def measure(job: ChunkJob, result: ChunkResult, velocity: Velocity, quality_points: int = 0) -> dict[str, Any]:
    """Worker thread: the metrics message body of a chunk's round (its net as of the snapshot: `velocity`),
    pairing and trajectories; with `quality_points`, the sample quality by steps on that many points too."""
    trajectory, pairs_x1 = result.trajectory, result.pairs_x1
    x0, z1 = trajectory.points[0], trajectory.end
    pairs_sq, pairs_abs = metrics.transport_cost(x0, pairs_x1)
    flow_sq, flow_abs = metrics.transport_cost(x0, z1)
    found: dict[str, Any] = {
        "crossing": {"pairs": metrics.crossing_fraction(x0, pairs_x1), "flow": metrics.crossing_fraction(x0, z1)},
        "cost": {"pairs": {"sq": pairs_sq, "abs": pairs_abs}, "flow": {"sq": flow_sq, "abs": flow_abs}},
        "straightness": None, "w2": None, "energy": None}
    if job.round.kind == "rf":
        s, s_norm = metrics.straightness(velocity, trajectory)
        found["straightness"] = {"s": s, "s_norm": s_norm}
    if len(x0) <= job.metrics_max_points and bool(z1.isfinite().all()):
        target = job.x1.to(z1.device)
        found["w2"] = metrics.wasserstein2(z1, target)
        found["energy"] = metrics.energy_distance(z1, target)
    round_ = job.round
    if round_.coupling == "ot" and round_.teacher is None:
        found["pairing"] = _row_order(pairs_x1.cpu(), job.x1)
    found["quality"] = quality(job, velocity, quality_points) if quality_points else None
    return found


def _row_order(permuted: torch.Tensor, rows: torch.Tensor) -> list[int] | None:
    """For each row of `permuted`, its index in `rows` (the OT round's pairing as indices), or None if a row is
    missing (the scene changed since)."""
    where = {tuple(row): i for i, row in enumerate(rows.tolist())}
    order = [where.get(tuple(row)) for row in permuted.tolist()]
    return None if None in order else order


def quality(job: ChunkJob, velocity: Velocity, points: int) -> dict[str, Any]:
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
    for entry in [*found["euler"], found["chosen"]]:
        entry["points"] = _flat(entry.pop("samples"))
    floor = _floor(job.target, target.numpy().tobytes()) if job.target is not None else None
    return {"against": "fresh target samples" if online else "the scene's data points", "n": len(target),
            "floor": floor, **found}


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

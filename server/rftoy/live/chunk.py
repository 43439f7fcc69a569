"""A training chunk: the unit of work a session hands to a trainer, and the snapshot that ends it.

A chunk trains one round of one session for a while (until its deadline, convergence, or an edit), then traces
every scene point for the snapshot. `run_chunk` does all of it alone in a worker thread (the per-session
trainer); the batched trainer (`rftoy.live.scheduler`) does the same phases with many chunks at once, through
`prepare`, `training_over`, `trace_request` and `finish`. The chunk's metrics are measured later, apart
(`rftoy.live.measures`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import KW_ONLY, dataclass

import numpy as np
import torch

from rftoy.engine.flow import PairSampler, fixed_pair_sampler, flow_endpoints, ot_assignment
from rftoy.engine.model import VelocityMLP, flat_weights
from rftoy.engine.solvers import Method, Trajectory, solve
from rftoy.engine.transfer import to_host
from rftoy.live.rounds import Round
from rftoy.protocol import Config, FrameKind
from rftoy.protocol.server import SnapshotHead, SnapshotMessage, TracedSnapshot, frame_info, traced_snapshot

OT_BLOCK = 256  # the OT round's pairs: exact assignment of up to this many points, in index blocks above


@dataclass
class Snapshot:
    """A snapshot message's metadata (the chunk's; the full message once the session sends it) and its arrays, in
    frame order."""

    meta: TracedSnapshot | SnapshotMessage
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
    _: KW_ONLY
    train: bool
    fresh: bool
    deadline: float
    meta: SnapshotHead
    stop: threading.Event
    edited: threading.Event
    teacher_steps: int
    metrics_max_points: int
    device: torch.device
    coarse: bool = False
    source: str | None = None
    target: str | None = None


@dataclass(kw_only=True)
class ChunkResult:
    snapshot: Snapshot | None
    trajectory: Trajectory | None
    pairs_x1: torch.Tensor
    converged_now: bool
    targets: torch.Tensor | None
    solve_s: float
    steps: int


@dataclass(kw_only=True)
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
    return Prepared(x0=x0, pairs_x1=pairs_x1, targets=targets, sampler=sampler, steps_before=trainer.steps_done,
                    was_converged=trainer.converged)


def ot_order(x0: torch.Tensor, x1: torch.Tensor, block: int = OT_BLOCK) -> torch.Tensor:
    """Indices p with (x0[i], x1[p[i]]) the OT round's pairing: exact assignment on squared distances for up to
    `block` points; above, exact within consecutive blocks of `block` pairs (minibatch OT: an exact assignment costs
    O(n³))."""
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
    return TraceRequest(job.round.shown, x0, solver["steps"], solver["method"], solver["warp_s"])


def interrupted(job: ChunkJob, prepared: Prepared) -> ChunkResult:
    """The result of a chunk an edit cut short: no snapshot, the edit is applied next."""
    steps = job.round.trainer.steps_done - prepared.steps_before
    return ChunkResult(snapshot=None, trajectory=None, pairs_x1=prepared.pairs_x1, converged_now=False,
                       targets=prepared.targets, solve_s=0.0, steps=steps)


def finish(job: ChunkJob, prepared: Prepared, trajectory: Trajectory, solve_s: float,
           weights: np.ndarray | None = None) -> ChunkResult:
    """The snapshot of a traced chunk: metadata, then the weights, trajectories and endpoints frames. `weights`:
    the net's flat weights as traced, on the host, when the caller has them (a batched trace does)."""
    round_, trainer = job.round, job.round.trainer
    kinds = (FrameKind.WEIGHTS, FrameKind.TRAJECTORIES, FrameKind.ENDPOINTS)
    if weights is None:
        host = to_host([flat_weights(round_.shown), trajectory.points, trajectory.end])
    else:
        host = [weights, *to_host([trajectory.points, trajectory.end])]
    arrays = list(zip(kinds, host, strict=True))
    frames = [frame_info(kind=kind.name.lower(), shape=list(array.shape)) for kind, array in arrays]
    meta = traced_snapshot(job.meta, step=trainer.steps_done, loss=trainer.losses[-1] if trainer.losses else None,
                           times=trajectory.times.tolist(), n=len(prepared.x0), frames=frames)
    return ChunkResult(snapshot=Snapshot(meta, arrays), trajectory=trajectory, pairs_x1=prepared.pairs_x1,
                       converged_now=trainer.converged and not prepared.was_converged, targets=prepared.targets,
                       solve_s=solve_s, steps=trainer.steps_done - prepared.steps_before)


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

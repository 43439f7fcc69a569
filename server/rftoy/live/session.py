"""One live scene: its pairs, its config, a model per reflow round, and the task that keeps training them.

The session knows nothing of HTTP or sockets. It takes validated protocol messages (`handle`) and reports
through two callbacks: `send` for control messages (dicts) and `offer` for snapshots (the newest one wins).

Concurrency: training chunks and snapshot solves run off the event loop while `_lock` is held: on the shared
batched trainer (`rftoy.live.scheduler`, with every other session's chunks) or, without one, alone in a pool thread.
Every command that touches the rounds or the scene takes the lock too, so it waits at most one chunk. Edits
never wait: they are checked at once and parked in `_pending` (moves coalesced per point), then applied at the
next chunk boundary. Metrics are computed on their own pool, on a frozen copy of the net, while training goes on.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from rftoy.engine import data
from rftoy.engine.flow import REFLOW_POOL_BATCHES, PairSampler, TrainConfig, Trainer, distill_config, online_sampler
from rftoy.engine.model import NetShape, VelocityMLP, clone_model, frozen_velocity
from rftoy.engine.solvers import EVALS_PER_STEP
from rftoy.live.chunk import ChunkJob, ChunkResult, Snapshot, measure, run_chunk
from rftoy.live.pace import DragPace, coarse_solver
from rftoy.live.scheduler import BatchedTrainer
from rftoy.protocol import (
    NET_FIELDS,
    TRAIN_FIELDS,
    AddPair,
    Config,
    Distill,
    Edit,
    Pause,
    PointsScene,
    PresetScene,
    ProtocolError,
    Reflow,
    RemovePair,
    Reset,
    Resume,
    SelectRound,
    SetConfig,
    SetScene,
    error_message,
    points_scene,
)
from rftoy.settings import Settings

logger = logging.getLogger(__name__)
MAX_PENDING_OPS = 256
ONLINE_OT_BLOCK = 128  # online OT rounds pair each minibatch exactly in blocks of this many (O(n³) each)
BACKWARD_PASSES = 3  # a training step's forward and backward passes, in forward-pass multiply-adds
RoundKind = Literal["rf", "distill"]
Coupling = Literal["independent", "ot"]


def session_error(message: str, in_reply_to: str, code: str = "state", seq: int | None = None) -> ProtocolError:
    return ProtocolError(code, message, in_reply_to, seq)


def trace_work(n: int, config: Config, evaluations: int | None = None) -> float:
    """Multiply-adds of tracing n points through the config's net (by default with its snapshot solver)."""
    shape = NetShape(config.width, config.depth, config.activation)
    evals = evaluations if evaluations is not None else config.steps * EVALS_PER_STEP[config.solver]
    return float(n) * evals * shape.parameter_count()


def train_work(config: Config, teacher_steps: int | None = None) -> float:
    """Multiply-adds of the costliest training step: forward and backward on a batch, plus (online with a teacher,
    given its rk4 `teacher_steps`) the first fill of the reflow pool, which traces many batches with the teacher."""
    weights = NetShape(config.width, config.depth, config.activation).parameter_count()
    work = float(config.batch) * BACKWARD_PASSES * weights
    if teacher_steps is not None:
        work += float(config.batch) * REFLOW_POOL_BATCHES * teacher_steps * EVALS_PER_STEP["rk4"] * weights
    return work


def materialize(scene: PresetScene | PointsScene) -> tuple[torch.Tensor, torch.Tensor, str | None, str | None]:
    """(x0, x1, source, target) of a scene message; preset scenes are drawn from their seed."""
    if isinstance(scene, PresetScene):
        gen = data.generator(scene.seed)
        return data.sample(scene.source, scene.n, gen), data.sample(scene.target, scene.n, gen), scene.source, \
            scene.target
    return data.points_from(scene.x0), data.points_from(scene.x1), scene.source, scene.target


@dataclass
class Round:
    """One trained flow: round 0 learns the scene's pairs, later rounds learn (x0, teacher's z1).

    `gen` draws online samples (on the CPU, where the presets are made); `pair_gen` picks minibatches of the
    fixed pairs on the training device.
    """

    kind: RoundKind
    name: str
    model: VelocityMLP
    trainer: Trainer
    gen: torch.Generator
    pair_gen: torch.Generator
    teacher: VelocityMLP | None = None
    targets: torch.Tensor | None = None
    stale: torch.Tensor | None = None
    sampler: PairSampler | None = None
    sampler_key: tuple[Any, ...] | None = None
    coupling: Coupling = "independent"
    generation: int = 1
    teacher_index: int | None = None

    def summary(self) -> dict[str, Any]:
        t = self.trainer
        return {"kind": self.kind, "name": self.name, "step": t.steps_done, "loss": t.losses[-1] if t.losses else None,
                "converged": t.converged, "coupling": self.coupling, "teacher": self.teacher_index}


@dataclass
class PendingOps:
    """Edits received but not yet applied: runs of coalesced moves, split by add/remove (which shift indices)."""

    ops: list[dict[tuple[str, int], tuple[float, float]] | AddPair | RemovePair] = field(default_factory=list)
    n: int = 0
    seq: int | None = None


def _insert(rows: torch.Tensor, at: int, new: torch.Tensor) -> torch.Tensor:
    return torch.cat([rows[:at], new, rows[at:]])


class Session:
    """A live scene and its trainer task. Create it, `start()` it, feed it `handle(message)`, `close()` it.

    `edits`, `steps`, `snapshots` and `most_rounds` count what it did (for logs); `on_steps` hears of every
    chunk's training steps. Chunks go to `batched` when given, else each runs alone on `pool`; metrics are
    computed on `metrics_pool` (by default `pool`).
    """

    def __init__(self, settings: Settings, device: torch.device, pool: Executor,
                 scene: PresetScene | PointsScene, config: Config,
                 send: Callable[[dict[str, Any]], None], offer: Callable[[Snapshot], None],
                 on_steps: Callable[[int], None] | None = None, batched: BatchedTrainer | None = None,
                 metrics_pool: Executor | None = None) -> None:
        self.id = secrets.token_hex(6)
        self.client = "local"  # the client address the app sets: fair shares in the batched trainer are per client
        self._on_steps = on_steps
        self.edits = 0
        self.steps = 0
        self.most_rounds = 1
        self.settings = settings
        self.device = device
        self._pool = pool
        self._batched = batched
        self._metrics_pool = metrics_pool or pool
        self._send = send
        self._offer = offer
        self.x0, self.x1, self.source, self.target = materialize(scene)
        self._check_work(len(self.x0), config, "hello")
        self._check_training(config, "hello", teacher=False)
        self.config = config
        self._fall_back_to_pairs()
        self.rounds: list[Round] = [self._fresh_round()]
        self.selected = 0
        if config.coupling == "ot":
            self._check_room_for_ot("hello", 1)
            self.rounds.append(self._fresh_round("ot"))
            self.selected = 1
        self.paused = False
        self.holding = False
        self.applied_seq: int | None = None
        self._pending = PendingOps(n=len(self.x0))
        self._snapshot_due = True
        self._snapshot_seq = 0
        self._last_snapshot_at = -math.inf
        self._last_metrics_at = -math.inf
        self._last_quality_at = -math.inf
        self._last_edit_at = -math.inf
        self._pace = DragPace(settings.busy_snapshot_hz)
        self._converged_coarse = False  # a coarse snapshot ended the round: its full trace reports it
        self._measuring: Future[dict[str, Any]] | None = None
        self._failure: BaseException | None = None
        self._solve_s = 0.0
        self._edited = threading.Event()
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._wake.set()
        self._stop = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._chunk: Future[ChunkResult | None] | None = None

    # Lifecycle.

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"session-{self.id}")

    async def close(self) -> None:
        """Stop training and return once no thread works for this session (a running chunk stops at its next
        step)."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])
        for work in (self._chunk, self._measuring):
            if work is not None and not work.done():
                await asyncio.wait([asyncio.wrap_future(work)])

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    @property
    def snapshots(self) -> int:
        return self._snapshot_seq

    # Scene and config views sent to the client.

    def scene_message(self) -> dict[str, Any]:
        return points_scene(self.x0.tolist(), self.x1.tolist(), self.source, self.target)

    @property
    def state(self) -> str:
        if self.paused:
            return "paused"
        return "training" if self._wants_training() else "idle"

    # Commands.

    async def handle(self, message: Any) -> None:
        """Apply one validated client message (not hello or ping); raises ProtocolError, changing nothing."""
        if isinstance(message, Edit | AddPair | RemovePair):
            self._queue_edit(message)
            return
        handlers: dict[type, Callable[[Any], None]] = {
            SetScene: self._set_scene, SetConfig: self._set_config, Reflow: self._reflow, Distill: self._distill,
            SelectRound: self._select_round, Pause: self._pause, Resume: self._resume, Reset: self._reset}
        async with self._lock:
            handlers[type(message)](message)
        self._wake.set()

    def _queue_edit(self, message: Edit | AddPair | RemovePair) -> None:
        pending = self._pending
        if isinstance(message, Edit):
            for i, move in enumerate(message.moves):
                if move.index >= pending.n:
                    raise session_error(f"edit.moves.{i}.index: {move.index} is out of range; the scene has "
                                        f"{pending.n} pairs", "edit", "invalid", message.seq)
            if not pending.ops or not isinstance(pending.ops[-1], dict):
                self._check_pending_room(message)
                pending.ops.append({})
            run = pending.ops[-1]
            for move in message.moves:
                run[(move.cloud, move.index)] = (move.x, move.y)
        elif isinstance(message, AddPair):
            if pending.n >= self.settings.max_points:
                raise session_error(f"the scene already has the maximum of {self.settings.max_points} pairs",
                                    "add_pair", "invalid", message.seq)
            if message.index is not None and message.index > pending.n:
                raise session_error(f"add_pair.index: {message.index} is out of range; the scene has {pending.n} "
                                    f"pairs, so a pair goes in at 0 … {pending.n}", "add_pair", "invalid",
                                    message.seq)
            self._check_work(pending.n + 1, self.config, "add_pair", seq=message.seq)
            if self.rounds[self.selected].teacher is not None:
                self._check_work(pending.n + 1, self.config, "add_pair", self._teacher_evals(), message.seq)
            self._check_pending_room(message)
            pending.ops.append(message)
            pending.n += 1
        else:
            if message.index >= pending.n:
                raise session_error(f"remove_pair.index: {message.index} is out of range; the scene has "
                                    f"{pending.n} pairs", "remove_pair", "invalid", message.seq)
            if pending.n == 1:
                raise session_error("the last pair cannot be removed", "remove_pair", "invalid", message.seq)
            self._check_pending_room(message)
            pending.ops.append(message)
            pending.n -= 1
        pending.seq = message.seq if pending.seq is None else max(pending.seq, message.seq)
        self.edits += 1
        self._last_edit_at = time.perf_counter()
        self._edited.set()
        self._wake.set()

    def _check_pending_room(self, message: Edit | AddPair | RemovePair) -> None:
        if len(self._pending.ops) >= MAX_PENDING_OPS:
            raise session_error(f"more than {MAX_PENDING_OPS} unapplied add/remove edits; wait for a snapshot",
                                message.type, "state", message.seq)

    def _set_scene(self, message: SetScene) -> None:
        x0, x1, source, target = materialize(message.scene)
        self._check_work(len(x0), self.config, "set_scene")
        self.x0, self.x1, self.source, self.target = x0, x1, source, target
        self.applied_seq = self._pending.seq  # unapplied edits are dropped with the old scene: reported as applied
        self._pending = PendingOps(n=len(x0), seq=self._pending.seq)
        self._edited.clear()
        if self._fall_back_to_pairs():
            self._send({"type": "config", "config": self.config.model_dump()})
        del self.rounds[1:]
        if self.config.coupling == "ot":
            self.rounds.append(self._fresh_round("ot"))
        self._select(len(self.rounds) - 1)
        self._retrain()
        self._send({"type": "scene", "scene": self.scene_message()})

    def _set_config(self, message: SetConfig) -> None:
        changes = {name: value for name, value in message.config.changes().items()
                   if getattr(self.config, name) != value}
        if changes.get("mode") == "online" and not self._has_presets():
            raise session_error("online mode samples fresh pairs from the scene's source and target presets, and "
                                "this scene has none; stay in pairs mode or set a preset scene",
                                "set_config", "invalid")
        config = self.config.model_copy(update=changes)
        if changes.get("coupling") == "ot" and not NET_FIELDS & changes.keys() and not any(
                r.coupling == "ot" and r.teacher is None for r in self.rounds):
            self._check_room_for_ot("set_config", len(self.rounds))
        self._check_work(len(self.x0), config, "set_config")
        teacher = self.rounds[self.selected].teacher is not None and not NET_FIELDS & changes.keys()
        self._check_training(config, "set_config", teacher)
        self.config = config
        if NET_FIELDS & changes.keys():
            self._reset_rounds()
        elif TRAIN_FIELDS & changes.keys():
            self._retrain()
        if "coupling" in changes:
            self._use_coupling(config.coupling)
        self._snapshot_due = True
        self._send({"type": "config", "config": self.config.model_dump()})

    def _reflow(self, message: Reflow) -> None:
        self._new_round("rf", "reflow")

    def _distill(self, message: Distill) -> None:
        self._new_round("distill", "distill")

    def _new_round(self, kind: RoundKind, verb: str) -> None:
        teacher = self.rounds[self.selected]
        if teacher.kind == "distill":
            raise session_error(f"cannot {verb} from a distilled one-step model; select an RF round first", verb)
        if self.selected + 1 >= self.settings.max_rounds:
            raise session_error(f"a session holds at most {self.settings.max_rounds} rounds", verb)
        self._check_work(len(self.x0), self.config, verb, self._teacher_evals())
        self._check_training(self.config, verb, teacher=True)
        del self.rounds[self.selected + 1:]
        model = clone_model(teacher.model)
        config = self._train_config()
        generation = teacher.generation + 1
        if kind == "distill":
            trainer, name = Trainer(model, distill_config(config), distill=True), f"distill {teacher.name}"
        else:
            prefix = "OT " if teacher.coupling == "ot" else ""
            trainer, name = Trainer(model, config), f"{prefix}{generation}-RF"
        stale = torch.ones(len(self.x0), dtype=torch.bool)
        seed = self.config.seed + len(self.rounds)
        self.rounds.append(Round(kind, name, model, trainer, data.generator(seed), data.generator(seed, self.device),
                                 teacher=teacher.model, targets=torch.zeros_like(self.x0), stale=stale,
                                 coupling=teacher.coupling, generation=generation, teacher_index=self.selected))
        self.most_rounds = max(self.most_rounds, len(self.rounds))
        self._select(len(self.rounds) - 1)
        self._retrain()

    def _select_round(self, message: SelectRound) -> None:
        if message.round >= len(self.rounds):
            raise session_error(f"select_round.round: there is no round {message.round}; the session has "
                                f"{len(self.rounds)}", "select_round", "invalid")
        if message.round != self.selected:
            self._select(message.round)
            self.holding = True

    def _pause(self, message: Pause) -> None:
        self.paused = True
        self._snapshot_due = True

    def _resume(self, message: Resume) -> None:
        self.paused = False
        self._retrain()

    def _reset(self, message: Reset) -> None:
        self._reset_rounds()

    # State changes (called with the lock held).

    def _check_work(self, n: int, config: Config, in_reply_to: str, evaluations: int | None = None,
                    seq: int | None = None) -> None:
        work, limit = trace_work(n, config, evaluations), self.settings.max_trace_work
        if work > limit:
            what = "tracing the teacher" if evaluations is not None else "one snapshot"
            raise session_error(f"{what} would take {work:.3g} multiply-adds ({n} points), over the limit of "
                                f"{limit:.3g}; use fewer points, solver steps or a smaller net", in_reply_to,
                                "invalid", seq)

    def _teacher_evals(self) -> int:
        return self.settings.teacher_steps * EVALS_PER_STEP["rk4"]

    def _check_training(self, config: Config, in_reply_to: str, teacher: bool) -> None:
        """Refuse a config whose costliest training step (with a teacher's reflow pool, online) is over the limit."""
        pool = teacher and config.mode == "online"
        work = train_work(config, self.settings.teacher_steps if pool else None)
        limit = self.settings.max_trace_work
        if work > limit:
            what = "filling the online reflow pool with the teacher" if pool else "one training step"
            raise session_error(f"{what} would take {work:.3g} multiply-adds (batch {config.batch}), over the limit "
                                f"of {limit:.3g}; use a smaller batch or net", in_reply_to, "invalid")

    def _has_presets(self) -> bool:
        return self.source is not None and self.target is not None

    def _fall_back_to_pairs(self) -> bool:
        """Online mode needs the scene's presets: without them, switch to pairs mode; True if it switched."""
        if self.config.mode != "online" or self._has_presets():
            return False
        self.config = self.config.model_copy(update={"mode": "pairs"})
        return True

    def _select(self, index: int) -> None:
        """Show round `index`; the config's coupling follows the round's (its chain's first round's), and the
        client hears of a change."""
        self.selected = index
        self._snapshot_due = True
        coupling = self.rounds[index].coupling
        if self.config.coupling != coupling:
            self.config = self.config.model_copy(update={"coupling": coupling})
            self._send({"type": "config", "config": self.config.model_dump()})

    def _use_coupling(self, coupling: Coupling) -> None:
        """The pairing control: show the first round of that coupling (1-RF, or the OT round, made on first use)."""
        root = next((i for i, r in enumerate(self.rounds) if r.coupling == coupling and r.teacher is None), None)
        if root is None:
            self._add_ot_round()
        elif root != self.selected:
            self._select(root)
            self.holding = self.rounds[root].trainer.steps_done > 0

    def _check_room_for_ot(self, in_reply_to: str, rounds: int) -> None:
        if rounds >= self.settings.max_rounds:
            raise session_error(f"a session holds at most {self.settings.max_rounds} rounds; select an earlier "
                                "round and reflow from there, or reset, to make room for the OT round", in_reply_to,
                                "invalid")

    def _add_ot_round(self) -> None:
        """Append the OT round, a fresh net trained on the exact optimal-transport re-pairing of the scene's points
        (online: on minibatch OT pairs), and show it."""
        self.rounds.append(self._fresh_round("ot"))
        self.most_rounds = max(self.most_rounds, len(self.rounds))
        self._select(len(self.rounds) - 1)
        self._retrain()

    def _retrain(self) -> None:
        """The selected round trains again (after a change to its data, settings or a resume)."""
        self.holding = False
        round_ = self.rounds[self.selected]
        round_.trainer.reset_convergence()
        round_.trainer.config = self._train_config(round_.kind)

    def _reset_rounds(self) -> None:
        """Start over from the seed's initial weights: 1-RF, and the OT round too when the coupling is OT."""
        self.rounds = [self._fresh_round()]
        if self.config.coupling == "ot":
            self.rounds.append(self._fresh_round("ot"))
        self._select(len(self.rounds) - 1)
        self.holding = False

    def _train_config(self, kind: RoundKind = "rf") -> TrainConfig:
        c, s = self.config, self.settings
        config = TrainConfig(lr=c.lr, batch=c.batch, time_sampling=c.time_sampling, warp_s=c.warp_s,
                             schedule="constant", converge_window=s.converge_window, converge_tol=s.converge_tol,
                             seed=c.seed)
        return distill_config(config) if kind == "distill" else config

    def _fresh_round(self, coupling: Coupling = "independent") -> Round:
        """A first round from the seed's initial weights: 1-RF on the scene's pairs, or OT on their OT re-pairing."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed)
            model = VelocityMLP(NetShape(self.config.width, self.config.depth, self.config.activation))
        model = model.to(self.device)
        seed = self.config.seed
        return Round("rf", "OT" if coupling == "ot" else "1-RF", model, Trainer(model, self._train_config()),
                     data.generator(seed), data.generator(seed, self.device), coupling=coupling)

    def _apply_pending(self) -> bool:
        """Apply parked edits to the scene (and to the teacher targets of every round); True if any."""
        pending = self._pending
        if not pending.ops:
            return False
        # numpy copies and writes: a tensor op would let go of the GIL and wait to get it back from the trainers
        x0, x1 = torch.from_numpy(self.x0.numpy().copy()), torch.from_numpy(self.x1.numpy().copy())
        rounds = [r for r in self.rounds if r.targets is not None]
        for op in pending.ops:
            if isinstance(op, dict):
                clouds = {"x0": x0.numpy(), "x1": x1.numpy()}
                for (cloud, index), point in op.items():
                    clouds[cloud][index] = point
                moved = [index for cloud, index in op if cloud == "x0"]
                for r in rounds:
                    r.stale[moved] = True
            elif isinstance(op, AddPair):
                at = len(x0) if op.index is None else op.index
                x0 = _insert(x0, at, torch.tensor([op.x0]))
                x1 = _insert(x1, at, torch.tensor([op.x1]))
                for r in rounds:
                    r.targets = _insert(r.targets, at, torch.zeros(1, 2))
                    r.stale = _insert(r.stale, at, torch.ones(1, dtype=torch.bool))
            else:
                keep = torch.arange(len(x0)) != op.index
                x0, x1 = x0[keep], x1[keep]
                for r in rounds:
                    r.targets, r.stale = r.targets[keep], r.stale[keep]
        for r in rounds:
            if r.teacher is None:  # an OT round: any change may change the whole assignment
                r.stale[:] = True
        self.x0, self.x1 = x0, x1
        self.applied_seq = pending.seq
        self._pending = PendingOps(n=len(x0), seq=pending.seq)
        self._edited.clear()
        return True

    def _wants_training(self) -> bool:
        return not self.paused and not self.holding and not self.rounds[self.selected].trainer.converged

    def _refresh_online_sampler(self, round_: Round) -> None:
        """In online mode, give the round a sampler of fresh pairs for the scene's presets (kept across modes)."""
        if self.config.mode != "online":
            return
        key = (self.source, self.target, round_.teacher is not None)
        if round_.sampler_key != key:
            coupling = "reflow" if round_.teacher is not None else round_.coupling
            round_.sampler = online_sampler(self.source, self.target, coupling, round_.gen, self.device,
                                            round_.teacher, self.settings.teacher_steps, ONLINE_OT_BLOCK)
            round_.sampler_key = key

    # The training loop.

    async def _run(self) -> None:
        try:
            await self._train_forever()
        except Exception:
            logger.exception("session %s failed", self.id)
            raise

    async def _train_forever(self) -> None:
        while True:
            await self._wake.wait()
            if self._failure is not None:
                raise self._failure
            async with self._lock:
                self._wake.clear()
                job = self._next_job()
                if job is None:
                    continue
                result = await self._run_chunk(job)
                if result is None:
                    continue
                self.steps += result.steps
                if self._on_steps is not None and result.steps:
                    self._on_steps(result.steps)
                if job.round.trainer.diverged:
                    self._restart_diverged(job.round)
                    continue
                self._finish(job, result)
                if result.snapshot is None:
                    continue
                if job.coarse:
                    self._trace_in_full_if_last(result.converged_now)
                    continue
                converged, self._converged_coarse = result.converged_now or self._converged_coarse, False
                if converged or self._metrics_due():
                    self._measure_later(job, result, converged)

    async def _run_chunk(self, job: ChunkJob) -> ChunkResult | None:
        if self._batched is None:
            return await self._in_thread(run_chunk, job)
        self._chunk = self._batched.submit(job, self.client)
        return await asyncio.wrap_future(self._chunk)

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn` on the shared training pool; `close` waits for it, as threads cannot be cancelled."""
        self._chunk = self._pool.submit(fn, *args)
        return await asyncio.wrap_future(self._chunk)

    def _restart_diverged(self, round_: Round) -> None:
        """A round whose loss went non-finite: tell the client, start it over from its initial weights, and hold
        it until the next change (a new learning rate, an edit, resume), so it does not diverge again at once."""
        self._send(error_message(ProtocolError("diverged", "training diverged (the loss is not finite); lower the "
                                               "learning rate")))
        if round_.teacher is None:
            fresh = self._fresh_round()
            round_.model, round_.trainer = fresh.model, fresh.trainer
        else:
            round_.model = clone_model(round_.teacher)
            round_.trainer = Trainer(round_.model, self._train_config(round_.kind), distill=round_.kind == "distill")
        self.holding = True
        self._snapshot_due = True
        self._wake.set()

    def _metrics_due(self) -> bool:
        """Metrics wait while the user drags (an edit within the last interval), but never more than ten
        intervals, and while the last ones are still being computed."""
        now = time.perf_counter()
        since, interval = now - self._last_metrics_at, self.settings.metrics_interval_s
        if self._measuring is not None and not self._measuring.done():
            return False
        return since >= 10 * interval or (since >= interval and now - self._last_edit_at >= interval)

    def _trace_in_full_if_last(self, converged_now: bool) -> None:
        """A drag's coarse snapshot that is the last one for now (the round converged, or is paused) is followed
        by a full trace of the same weights, which carries the metrics and the round's end."""
        self._converged_coarse |= converged_now
        if not self._wants_training():
            self._snapshot_due = True
            self._wake.set()

    def _measure_later(self, job: ChunkJob, result: ChunkResult, converged: bool) -> None:
        """Compute the metrics on the pool, on a copy of the net, while training goes on; report when done. The
        sample-quality maps (five traces and exact W2s) wait until the user has stopped dragging for an interval, so
        a drag never pays for them."""
        self._last_metrics_at = now = time.perf_counter()
        points, interval = 0, self.settings.quality_interval_s
        dragging = now - self._last_edit_at < interval
        if converged or (now - self._last_quality_at >= interval and not dragging):
            self._last_quality_at, points = now, self.settings.quality_points
        loop = asyncio.get_running_loop()
        self._measuring = self._metrics_pool.submit(measure, job, result, frozen_velocity(job.round.model), points)
        self._measuring.add_done_callback(
            lambda done: loop.call_soon_threadsafe(self._measured, job, result, converged, done))

    def _measured(self, job: ChunkJob, result: ChunkResult, converged: bool, done: Future[dict[str, Any]]) -> None:
        if self._stop.is_set():
            return
        if done.exception() is not None:
            self._failure = done.exception()
            self._wake.set()
            return
        self._report(job, result, done.result(), converged)

    def _next_job(self) -> ChunkJob | None:
        """The next chunk to run, or None when there is nothing to do (idle, or too soon for a snapshot)."""
        edited = self._apply_pending()
        if edited and not self.paused:
            self._retrain()
            self._converged_coarse = False
        train = self._wants_training()
        if not (train or edited or self._snapshot_due):
            return None
        now = time.perf_counter()
        next_allowed = self._last_snapshot_at + 1.0 / self.settings.snapshot_hz
        if not train and now < next_allowed:
            self._snapshot_due = True
            asyncio.get_running_loop().call_later(next_allowed - now, self._wake.set)
            return None
        self._snapshot_due = False
        if train:
            del self.rounds[self.selected + 1:]
        round_ = self.rounds[self.selected]
        self._refresh_online_sampler(round_)
        coarse = edited and self._pace.coarse and round_.kind != "distill"
        method, steps = coarse_solver(self.config.steps) if coarse else (self.config.solver, self.config.steps)
        meta = {"type": "snapshot", "round": self.selected, "applied_seq": self.applied_seq,
                "net": {"width": self.config.width, "depth": self.config.depth, "activation": self.config.activation,
                        "parameters": round_.model.shape.parameter_count()},
                "solver": ({"method": "euler", "steps": 1, "warp_s": 1.0} if round_.kind == "distill" else
                           {"method": method, "steps": steps, "warp_s": self.config.warp_s}),
                "coarse": coarse}
        chunk_ms = self.settings.edit_chunk_ms if edited else self.settings.chunk_ms
        deadline = max(now + chunk_ms / 1000, next_allowed - self._solve_s)
        return ChunkJob(round_, self.x0, self.x1, self.config, train, edited, deadline, meta, self._stop,
                        self._edited, self.settings.teacher_steps, self.settings.metrics_max_points, self.device,
                        coarse, self.source, self.target)

    def _finish(self, job: ChunkJob, result: ChunkResult) -> None:
        round_ = job.round
        if result.targets is not None:
            round_.targets = result.targets
            round_.stale = torch.zeros(len(result.targets), dtype=torch.bool)
        if self._wants_training():
            self._wake.set()
        if result.snapshot is None:
            return
        meta = result.snapshot.meta
        self._snapshot_seq += 1
        meta["seq"] = self._snapshot_seq
        meta["state"] = self.state
        meta["rounds"] = [dict(r.summary(), index=i) for i, r in enumerate(self.rounds)]
        self._last_snapshot_at = time.perf_counter()
        self._pace.record(self._last_snapshot_at, job.fresh)
        self._solve_s = 0.8 * self._solve_s + 0.2 * result.solve_s
        self._offer(result.snapshot)

    def _report(self, job: ChunkJob, result: ChunkResult, found: dict[str, Any], converged: bool) -> None:
        meta = result.snapshot.meta
        body = {"round": meta["round"], "step": meta["step"], "loss": meta["loss"], **found}
        self._send({"type": "metrics", **body})
        if converged:
            self._send({"type": "round_done", "round": meta["round"], "kind": job.round.kind,
                        "name": job.round.name, "step": meta["step"], "metrics": body})

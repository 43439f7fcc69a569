"""One live scene: its pairs, its config, a model per reflow round, and the task that keeps training them.

The session knows nothing of HTTP or sockets. It takes validated protocol messages (`handle`) and reports
through two callbacks: `send` for control messages and `offer` for snapshots (the newest one wins). It is a
dispatcher and a loop around its parts: the state and the commands that change it (`rftoy.live.state`: the scene,
the config, the edit queue of `rftoy.live.edits`, the stack of rounds of `rftoy.live.rounds`, the work budget of
`rftoy.live.budget`), the snapshot pace (`rftoy.live.pace`) and the metrics reporter (`rftoy.live.reporter`).

Concurrency: training chunks and snapshot solves run off the event loop while `_lock` is held: on the shared
batched trainer (`rftoy.live.scheduler`, with every other session's chunks) or, without one, alone in a pool thread.
Every command that touches the rounds or the scene takes the lock too, so it waits at most one chunk. Edits
never wait: they are checked at once and parked in the edit queue, then applied at the next chunk boundary.
Metrics are computed on their own pool, on a frozen copy of the net, while training goes on.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import torch

from rftoy.live.chunk import ChunkJob, ChunkResult, Snapshot, run_chunk
from rftoy.live.pace import DragPace, SnapshotPace, coarse_solver
from rftoy.live.reporter import MetricsReporter
from rftoy.live.rounds import Round
from rftoy.live.scheduler import BatchedTrainer
from rftoy.live.state import SessionState
from rftoy.protocol import (
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
)
from rftoy.protocol.server import (
    SessionMessage,
    error_message,
    net_info,
    snapshot_head,
    snapshot_message,
    solver_info,
)
from rftoy.settings import Settings

logger = logging.getLogger(__name__)


class Session:
    """A live scene and its trainer task. Create it, `start()` it, feed it `handle(message)`, `close()` it.

    `edits`, `steps`, `snapshots` and `most_rounds` count what it did (for logs); `on_steps` hears of every
    chunk's training steps. Chunks go to `batched` when given, else each runs alone on `pool`; metrics are
    computed on `metrics_pool` (by default `pool`).
    """

    def __init__(self, settings: Settings, device: torch.device, pool: Executor,
                 scene: PresetScene | PointsScene, config: Config,
                 send: Callable[[SessionMessage], None], offer: Callable[[Snapshot], None],
                 on_steps: Callable[[int], None] | None = None, batched: BatchedTrainer | None = None,
                 metrics_pool: Executor | None = None) -> None:
        self.id = secrets.token_hex(6)
        self.client = "local"  # the client address the app sets: fair shares in the batched trainer are per client
        self.edits = 0
        self.steps = 0
        self.settings = settings
        self.device = device
        self.state = SessionState(settings, device, scene, config, send)
        self._on_steps = on_steps
        self._pool = pool
        self._batched = batched
        self._send = send
        self._offer = offer
        self._pace = SnapshotPace(settings.snapshot_hz, DragPace(settings.busy_snapshot_hz))
        self._converged_coarse = False  # a coarse snapshot ended the round: its full trace reports it
        self._failure: BaseException | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._wake.set()
        self._stop = threading.Event()
        self._reporter = MetricsReporter(settings, metrics_pool or pool, send, self._stop, self._fail)
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
        for work in (self._chunk, self._reporter.measuring):
            if work is not None and not work.done():
                await asyncio.wait([asyncio.wrap_future(work)])

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    # What the app logs and shows.

    @property
    def snapshots(self) -> int:
        return self._pace.seq

    @property
    def most_rounds(self) -> int:
        return self.state.rounds.most

    @property
    def config(self) -> Config:
        return self.state.config

    @property
    def x0(self) -> torch.Tensor:
        return self.state.x0

    def scene_message(self) -> dict[str, Any]:
        """The scene as explicit points (the `ready` message's scene)."""
        return self.state.scene_body()

    # A read-only view for the tests of internal pieces no message shows (the online and OT samplers).

    @property
    def rounds(self) -> list[Round]:
        return self.state.rounds.rounds

    # Commands.

    async def handle(self, message: Any) -> None:
        """Apply one validated client message (not hello or ping); raises ProtocolError, changing nothing."""
        state = self.state
        if isinstance(message, Edit | AddPair | RemovePair):
            state.queue_edit(message)
            self.edits += 1
            self._reporter.last_edit_at = time.perf_counter()
            self._wake.set()
            return
        async with self._lock:
            match message:
                case SetScene():
                    state.set_scene(message)
                case SetConfig():
                    state.set_config(message)
                case SelectRound():
                    state.select_round(message)
                case Reflow():
                    state.new_round("rf", "reflow")
                case Distill():
                    state.new_round("distill", "distill")
                case Pause():
                    state.pause()
                case Resume():
                    state.resume()
                case Reset():
                    state.reset()
                case _:
                    raise TypeError(f"not a session command: {type(message).__name__}")
        self._wake.set()

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
                if converged or self._reporter.due():
                    self._reporter.measure_later(job, result, converged)

    async def _run_chunk(self, job: ChunkJob) -> ChunkResult | None:
        """The chunk, on the batched trainer or alone on the pool; `close` waits for it (threads cannot be
        cancelled)."""
        if self._batched is None:
            self._chunk = self._pool.submit(run_chunk, job)
        else:
            self._chunk = self._batched.submit(job, self.client)
        return await asyncio.wrap_future(self._chunk)

    def _fail(self, error: BaseException) -> None:
        """Work off the loop failed: the training loop ends with `error` (the app tells the client)."""
        self._failure = error
        self._wake.set()

    def _restart_diverged(self, round_: Round) -> None:
        """A round whose loss went non-finite: tell the client, start it over from its initial weights, and hold
        it until the next change (a new learning rate, an edit, resume), so it does not diverge again at once."""
        self._send(error_message(ProtocolError("diverged", "training diverged (the loss is not finite); lower the "
                                               "learning rate")))
        self.state.rounds.restart(round_, self.state.config)
        self.state.hold()
        self._wake.set()

    def _trace_in_full_if_last(self, converged_now: bool) -> None:
        """A drag's coarse snapshot that is the last one for now (the round converged, or is paused) is followed
        by a full trace of the same weights, which carries the metrics and the round's end."""
        self._converged_coarse |= converged_now
        if not self.state.wants_training():
            self.state.snapshot_due = True
            self._wake.set()

    def _next_job(self) -> ChunkJob | None:
        """The next chunk to run, or None when there is nothing to do (idle, or too soon for a snapshot)."""
        state = self.state
        edited = state.apply_edits()
        if edited and not state.paused:
            state.retrain()
            self._converged_coarse = False
        train = state.wants_training()
        if not (train or edited or state.snapshot_due):
            return None
        now, next_allowed = time.perf_counter(), self._pace.next_allowed
        if not train and now < next_allowed:
            state.snapshot_due = True
            asyncio.get_running_loop().call_later(next_allowed - now, self._wake.set)
            return None
        state.snapshot_due = False
        if train:
            state.rounds.drop_after_selected()
        round_, c, s = state.rounds.current, state.config, self.settings
        source, target = state.scene.sampled_names() or (None, None)
        if c.mode == "online" and source is not None and target is not None:
            state.rounds.sample_online(round_, source, target)
        coarse = edited and self._pace.drag.coarse and round_.kind != "distill"
        method, steps = coarse_solver(c.steps) if coarse else (c.solver, c.steps)
        solver = (solver_info(method="euler", steps=1, warp_s=1.0) if round_.kind == "distill" else
                  solver_info(method=method, steps=steps, warp_s=c.warp_s))
        net = net_info(width=c.width, depth=c.depth, activation=c.activation,
                       parameters=round_.model.shape.parameter_count())
        head = snapshot_head(round_index=state.rounds.selected, applied_seq=state.applied_seq, net=net, solver=solver,
                             coarse=coarse)
        chunk_ms = s.edit_chunk_ms if edited else s.chunk_ms
        return ChunkJob(round=round_, x0=state.x0, x1=state.x1, config=c, train=train, fresh=edited,
                        deadline=max(now + chunk_ms / 1000, next_allowed - self._pace.solve_s), meta=head,
                        stop=self._stop, edited=state.edited, teacher_steps=s.teacher_steps,
                        metrics_max_points=s.metrics_max_points, device=self.device, coarse=coarse,
                        source=source, target=target)

    def _finish(self, job: ChunkJob, result: ChunkResult) -> None:
        round_ = job.round
        if result.targets is not None:
            round_.targets = result.targets
            round_.stale = torch.zeros(len(result.targets), dtype=torch.bool)
        if self.state.wants_training():
            self._wake.set()
        snapshot = result.snapshot
        if snapshot is None:
            return
        seq = self._pace.sent(time.perf_counter(), job.fresh, result.solve_s)
        snapshot.meta = snapshot_message(snapshot.meta, seq=seq, state=self.state.run_state,
                                         rounds=self.state.rounds.summaries())
        self._offer(snapshot)

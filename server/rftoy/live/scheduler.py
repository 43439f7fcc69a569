"""The batched trainer: every session's chunks, trained and traced together, one step for all at a time.

Each worker has two threads. The trainer admits new chunks (refreshing their teacher targets) and takes one
training step for every chunk still training, in batches of nets that share a shape; a tick takes at most
`max_rows` pair rows: chunks that start from an edit (a drag) go first, then those that stepped least recently,
so every session advances and a dragged one never waits behind the others. Chunks whose training is over go to
the tracer, which traces them in batches of nets that share a shape and solver grid, and hands each session its
snapshot. Sessions that are converged or paused submit no chunks and cost nothing.

Time is shared fairly between clients (addresses), not chunks (rftoy.live.fair): each client is charged the trainer
and tracer time its chunks took, a tick takes chunks only from clients within `FAIR_QUANTUM_S` of the least
charged one, and the tracer serves the least charged client first. A client gains nothing by opening more
sessions or choosing the costliest settings: it waits longer for its own turns, not others for theirs. Within
a client, its sessions take turns (the longest waiting first).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field

import torch

from rftoy.engine.batched import batched_step, shape_key, stacked_flat_weights, stacked_parameters, stacked_solve
from rftoy.engine.solvers import EVALS_PER_STEP
from rftoy.engine.threads import inherit_torch_threads
from rftoy.engine.transfer import to_host
from rftoy.live.chunk import (
    ChunkJob,
    ChunkResult,
    Prepared,
    TraceRequest,
    finish,
    interrupted,
    prepare,
    trace_request,
    training_over,
)
from rftoy.live.fair import LIGHT_WORK, TRACE_LIGHT_WORK, Shares, work_of

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Slot:
    """One submitted chunk and where it stands."""

    job: ChunkJob
    future: Future[ChunkResult | None]
    client: str = "local"
    submitted_at: float = field(default_factory=time.perf_counter)
    prepared: Prepared | None = None
    training: bool = False
    last_tick: int = -1
    losses: list[torch.Tensor | float] = field(default_factory=list)

    def settle(self) -> None:
        """Hand the losses of its steps so far to the trainer (one read of the device per chunk, not per step)."""
        if self.losses:
            on_host = isinstance(self.losses[0], float)
            for loss in self.losses if on_host else torch.stack(self.losses).tolist():
                self.job.round.trainer.record_loss(loss)
            self.losses = []

    @property
    def rows(self) -> int:
        return chunk_rows(self.job)

    @property
    def work(self) -> float:
        return chunk_work(self.job)


def chunk_rows(job: ChunkJob) -> int:
    """Pair rows one of a chunk's steps takes (a fixed set smaller than the batch is taken whole)."""
    batch = job.config.batch
    return batch if job.config.mode == "online" else min(batch, len(job.x0))


def chunk_work(job: ChunkJob) -> float:
    """The relative cost of one of a chunk's steps (rows times the net's weights)."""
    return work_of(chunk_rows(job), job.config.width, job.config.depth)


def heavy(job: ChunkJob) -> bool:
    """Does one of the chunk's steps, or its snapshot's trace, cost more than LIGHT_WORK (a few ms)?"""
    solver = job.meta.get("solver", {"method": "euler", "steps": 1})
    evals = EVALS_PER_STEP.get(solver["method"], 4) * solver["steps"]
    trace = work_of(len(job.x0) * evals, job.config.width, job.config.depth)
    return chunk_work(job) > LIGHT_WORK or trace > TRACE_LIGHT_WORK


@dataclass
class WorkerStats:
    """Counts since start: ticks, steps (`shared_steps` of them in batches of two or more nets), traces, and the
    seconds spent in each."""

    ticks: int = 0
    steps: int = 0
    shared_steps: int = 0
    traces: int = 0
    tick_s: float = 0.0
    trace_s: float = 0.0


@dataclass(eq=False)
class Worker:
    """Two threads and the chunks they own: the trainer admits chunks and steps those still training; the tracer
    traces those whose training is over. Traces run compiled, without the GIL (engine.stacked_trace), so the tracer
    works on another core while the trainer steps: a trace is most of what a dragged session costs."""

    max_rows: int
    arrivals: list[Slot] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    ready: list[Slot] = field(default_factory=list)
    stats: WorkerStats = field(default_factory=WorkerStats)
    train_shares: Shares = field(default_factory=Shares)
    trace_shares: Shares = field(default_factory=Shares)
    closed: bool = False
    wake: threading.Condition = field(default_factory=threading.Condition)
    traces_waiting: threading.Condition = field(default_factory=threading.Condition)
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def load(self) -> int:
        return len(self.slots) + len(self.arrivals) + len(self.ready)

    def start(self, name: str) -> None:
        self.threads = [threading.Thread(target=_with_torch_threads(self.train), name=f"{name}-train", daemon=True),
                        threading.Thread(target=_with_torch_threads(self.trace), name=f"{name}-trace", daemon=True)]
        for thread in self.threads:
            thread.start()

    def submit(self, job: ChunkJob, client: str = "local") -> Future[ChunkResult | None]:
        future: Future[ChunkResult | None] = Future()
        future.set_running_or_notify_cancel()  # not cancellable: a closing session waits for the worker to let go
        with self.wake:
            if self.closed:
                future.set_result(None)
                return future
            self.arrivals.append(Slot(job, future, client))
            self.wake.notify()
        return future

    def close(self) -> None:
        """Stop both threads; chunks still queued end with None."""
        for condition in (self.wake, self.traces_waiting):
            with condition:
                self.closed = True
                condition.notify()
        for thread in self.threads:
            thread.join()

    def train(self) -> None:
        while True:
            with self.wake:
                while not (self.arrivals or self.slots or self.closed):
                    self.wake.wait()
                if self.closed:
                    _end(self.slots + self.arrivals)
                    self.slots, self.arrivals = [], []
                    return
            self._admit()
            self._tick([s for s in self.slots if s.training])

    def trace(self) -> None:
        while True:
            with self.traces_waiting:
                while not (self.ready or self.closed):
                    self.traces_waiting.wait()
                if self.closed:
                    _end(self.ready)
                    self.ready = []
                    return
                client = self.trace_shares.next_client({slot.client for slot in self.ready})
                ready = light_first([slot for slot in self.ready if slot.client == client])
                self.ready = [slot for slot in self.ready if slot not in ready]
            started = time.perf_counter()
            self._trace(ready)
            self.trace_shares.charge({client: time.perf_counter() - started})

    def _hand_to_tracer(self, slot: Slot) -> None:
        slot.training = False
        if slot in self.slots:
            self.slots.remove(slot)
        with self.traces_waiting:
            if self.closed:  # the tracer may have ended already
                _settle_future(slot, None)
                return
            self.ready.append(slot)
            self.traces_waiting.notify()

    def _admit(self) -> None:
        with self.wake:
            new, self.arrivals = self.arrivals, []
        for slot in new:
            if self._guard([slot], lambda s=slot: self._prepare(s)):
                if slot.training:
                    self.slots.append(slot)
                else:
                    self._hand_to_tracer(slot)
        for slot in [s for s in self.slots if s.job.stop.is_set()]:
            self.slots.remove(slot)
            _settle_future(slot, None)

    def _prepare(self, slot: Slot) -> None:
        slot.prepared = prepare(slot.job)
        slot.training = slot.job.train

    def _guard(self, slots: list[Slot], work: Callable[[], None]) -> bool:
        """Run `work`; if it raises, fail the chunks it was for (their sessions report it) and carry on."""
        try:
            work()
        except Exception as error:  # the sessions get the error; the worker lives on
            logger.exception("batched training failed for %d chunk(s)", len(slots))
            for slot in slots:
                if slot in self.slots:
                    self.slots.remove(slot)
                if not slot.future.done():
                    slot.future.set_exception(error)
            return False
        return True

    def _tick(self, training: list[Slot]) -> None:
        if not training:
            return
        started = time.perf_counter()
        picked = pick(training, self.max_rows, self.train_shares)
        for group in _groups(picked, lambda s: shape_key(s.job.round.trainer)):
            if self._guard(group, lambda g=group: _step(g)):
                self.stats.steps += len(group)
                self.stats.shared_steps += len(group) if len(group) > 1 else 0
        self.stats.ticks += 1
        for slot in picked:
            if slot.last_tick < 0:  # its training time counts from its first step, not from its wait for a turn
                slot.job.deadline += started - slot.submitted_at
            slot.last_tick = self.stats.ticks
            if slot not in self.slots:
                continue
            over, cut = training_over(slot.job)
            if not over:
                continue
            slot.settle()
            if cut:
                self.slots.remove(slot)
                _settle_future(slot, interrupted(slot.job, slot.prepared))
            else:
                self._hand_to_tracer(slot)
        spent = time.perf_counter() - started
        self.stats.tick_s += spent
        total = sum(slot.work for slot in picked)
        charges: dict[str, float] = {}
        for slot in picked:
            charges[slot.client] = charges.get(slot.client, 0.0) + spent * slot.work / total
        self.train_shares.charge(charges)

    def _trace(self, ready: list[Slot]) -> None:
        started = time.perf_counter()
        live = []
        for slot in ready:
            if slot.job.stop.is_set():
                _settle_future(slot, None)
            else:
                live.append(slot)
        requests = {slot: trace_request(slot.job, slot.prepared.x0) for slot in live}

        def grid(slot: Slot) -> tuple:
            r = requests[slot]
            return (r.model.shape, str(r.x0.device), r.steps, r.method, r.warp_s)

        for group in _groups(live, grid):
            self._guard(group, lambda g=group: _trace_group(g, [requests[s] for s in g]))
        self.stats.traces += len(live)
        self.stats.trace_s += time.perf_counter() - started


def _with_torch_threads(loop: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        inherit_torch_threads()
        loop()

    return run


def _trace_group(group: list[Slot], requests: list[TraceRequest]) -> None:
    """Trace a group's nets together; their snapshots' weights come from the same stacked copy, in one piece."""
    started = time.perf_counter()
    first = requests[0]
    models = [r.model for r in requests]
    parameters = stacked_parameters(models)
    trajectories = stacked_solve(models, [r.x0 for r in requests], first.steps, first.method, first.warp_s,
                                 parameters)
    weights = to_host([stacked_flat_weights(parameters)])[0]
    share = (time.perf_counter() - started) / len(group)
    for slot, trajectory, own in zip(group, trajectories, weights, strict=True):
        _settle_future(slot, finish(slot.job, slot.prepared, trajectory, share, own))


def _settle_future(slot: Slot, result: ChunkResult | None) -> None:
    if not slot.future.done():
        slot.future.set_result(result)


def _end(slots: list[Slot]) -> None:
    for slot in slots:
        _settle_future(slot, None)


def pick(training: list[Slot], max_rows: int, shares: Shares | None = None) -> list[Slot]:
    """A tick's chunks, up to `max_rows` rows (at least one): only those of clients whose share of the time is
    due (`Shares.due`), the least charged client first; within a client, dragged chunks first, then the longest
    waiting."""
    due = {} if shares is None else shares.due({slot.client for slot in training})
    if shares is not None:
        training = [slot for slot in training if slot.client in due]
    picked, rows = [], 0
    work: dict[str, float] = {}
    for slot in sorted(training, key=lambda s: (not s.job.fresh, due.get(s.client, 0.0), s.last_tick)):
        if picked and rows + slot.rows > max_rows:
            continue
        if shares is not None and slot.client in work and work[slot.client] + slot.work > LIGHT_WORK:
            continue  # a client's heavy chunks take one step per tick each, in turn: ticks stay short
        picked.append(slot)
        rows += slot.rows
        work[slot.client] = work.get(slot.client, 0.0) + slot.work
    return picked


def light_first(slots: list[Slot]) -> list[Slot]:
    """One client's traces for one turn of the tracer: all of them while light, else one (heavy traces in turn)."""
    if sum(slot.work for slot in slots) <= LIGHT_WORK:
        return slots
    return [min(slots, key=lambda slot: slot.work)]


def _step(group: list[Slot]) -> None:
    """One training step for every chunk of a group (one net shape); on a GPU their losses stay there for now."""
    batches = [s.prepared.sampler(s.job.config.batch) for s in group]
    losses = batched_step([s.job.round.trainer for s in group], batches)
    own = losses.tolist() if losses.device.type == "cpu" else losses.unbind(0)  # a GPU's are read at the chunk's end
    for slot, loss in zip(group, own, strict=True):
        slot.losses.append(loss)


def _groups(slots: Iterable[Slot], key: Callable[[Slot], object]) -> list[list[Slot]]:
    groups: dict[object, list[Slot]] = {}
    for slot in slots:
        groups.setdefault(key(slot), []).append(slot)
    return list(groups.values())


class BatchedTrainer:
    """Workers that train and trace every session's chunks in batches; `submit` a chunk, get a future.

    Heavy chunks (a step or a trace of the costliest settings, `heavy`) go to a worker of their own, so a light
    session never waits behind a heavy step or trace already running: the two lanes share the cores, not turns.
    """

    def __init__(self, workers: int = 1, max_rows: int = 16384) -> None:
        self.workers = [Worker(max_rows) for _ in range(max(1, workers))]
        self.heavy = Worker(max_rows)
        for index, worker in enumerate(self.workers):
            worker.start(f"rftoy-batched-{index}")
        self.heavy.start("rftoy-batched-heavy")

    def submit(self, job: ChunkJob, client: str = "local") -> Future[ChunkResult | None]:
        """Queue a chunk of `client`'s on the heavy lane or the least loaded worker; the future gets its result,
        or None if its session stopped."""
        if heavy(job):
            return self.heavy.submit(job, client)
        return min(self.workers, key=lambda w: w.load).submit(job, client)

    def stats(self) -> WorkerStats:
        total = WorkerStats()
        for worker in [*self.workers, self.heavy]:
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(worker.stats, name))
        return total

    def close(self) -> None:
        """Stop the workers; chunks still queued end with None."""
        for worker in [*self.workers, self.heavy]:
            worker.close()

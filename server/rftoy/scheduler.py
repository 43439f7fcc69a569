"""The batched trainer: every session's chunks, trained and traced together, one step for all at a time.

Each worker thread runs a loop: admit new chunks (refresh their teacher targets), trace every chunk whose
training is over, in batches of nets that share a shape and solver grid, then take one training step for every
chunk still training, in batches of nets that share a shape. A tick takes at most `max_rows` pair rows: chunks
that start from an edit (a drag) go first, then those that stepped least recently, so every session advances
and a dragged one never waits behind the others. Sessions that are converged or paused submit no chunks and
cost nothing.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field

import torch

from rftoy.batched import batched_step, shape_key, stacked_solve
from rftoy.chunk import (
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

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Slot:
    """One submitted chunk and where it stands."""

    job: ChunkJob
    future: Future[ChunkResult | None]
    prepared: Prepared | None = None
    training: bool = False
    last_tick: int = -1
    losses: list[torch.Tensor] = field(default_factory=list)

    def settle(self) -> None:
        """Hand the losses of its steps so far to the trainer (one read of the device per chunk, not per step)."""
        if self.losses:
            for loss in torch.stack(self.losses).tolist():
                self.job.round.trainer.record_loss(loss)
            self.losses = []

    @property
    def rows(self) -> int:
        """Pair rows one of its steps takes (a fixed set smaller than the batch is taken whole)."""
        batch = self.job.config.batch
        return batch if self.job.config.mode == "online" else min(batch, len(self.job.x0))


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
    """One thread and the chunks it owns."""

    max_rows: int
    arrivals: list[Slot] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    stats: WorkerStats = field(default_factory=WorkerStats)
    closed: bool = False
    wake: threading.Condition = field(default_factory=threading.Condition)
    thread: threading.Thread | None = None

    @property
    def load(self) -> int:
        return len(self.slots) + len(self.arrivals)

    def submit(self, job: ChunkJob) -> Future[ChunkResult | None]:
        future: Future[ChunkResult | None] = Future()
        future.set_running_or_notify_cancel()  # not cancellable: a closing session waits for the worker to let go
        with self.wake:
            if self.closed:
                future.set_result(None)
                return future
            self.arrivals.append(Slot(job, future))
            self.wake.notify()
        return future

    def run(self) -> None:
        while True:
            with self.wake:
                while not (self.arrivals or self.slots or self.closed):
                    self.wake.wait()
                if self.closed:
                    self._end_all()
                    return
            self._admit()
            self._trace([s for s in self.slots if not s.training])
            self._admit()
            self._tick([s for s in self.slots if s.training])

    def _end_all(self) -> None:
        for slot in itertools.chain(self.slots, self.arrivals):
            if not slot.future.done():
                slot.future.set_result(None)
        self.slots, self.arrivals = [], []

    def _admit(self) -> None:
        with self.wake:
            new, self.arrivals = self.arrivals, []
        for slot in new:
            if self._guard([slot], lambda s=slot: self._prepare(s)):
                self.slots.append(slot)
        for slot in [s for s in self.slots if s.job.stop.is_set()]:
            self._resolve(slot, None)

    def _prepare(self, slot: Slot) -> None:
        slot.prepared = prepare(slot.job)
        slot.training = slot.job.train

    def _resolve(self, slot: Slot, result: ChunkResult | None) -> None:
        if slot in self.slots:
            self.slots.remove(slot)
        if not slot.future.done():
            slot.future.set_result(result)

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
        picked = pick(training, self.max_rows)
        for group in _groups(picked, lambda s: shape_key(s.job.round.trainer)):
            if self._guard(group, lambda g=group: _step(g)):
                self.stats.steps += len(group)
                self.stats.shared_steps += len(group) if len(group) > 1 else 0
        self.stats.ticks += 1
        for slot in picked:
            slot.last_tick = self.stats.ticks
            if slot not in self.slots:
                continue
            over, cut = training_over(slot.job)
            if not over:
                continue
            slot.settle()
            if cut:
                self._resolve(slot, interrupted(slot.job, slot.prepared))
            else:
                slot.training = False
        self.stats.tick_s += time.perf_counter() - started

    def _trace(self, ready: list[Slot]) -> None:
        if not ready:
            return
        started = time.perf_counter()
        for slot in [s for s in ready if s.job.stop.is_set()]:
            self._resolve(slot, None)
            ready.remove(slot)
        requests = {slot: trace_request(slot.job, slot.prepared.x0) for slot in ready}

        def grid(slot: Slot) -> tuple:
            r = requests[slot]
            return (r.model.shape, str(r.x0.device), r.steps, r.method, r.warp_s)

        for group in _groups(ready, grid):
            self._guard(group, lambda g=group: self._trace_group(g, [requests[s] for s in g]))
        self.stats.traces += len(ready)
        self.stats.trace_s += time.perf_counter() - started

    def _trace_group(self, group: list[Slot], requests: list[TraceRequest]) -> None:
        started = time.perf_counter()
        first = requests[0]
        trajectories = stacked_solve([r.model for r in requests], [r.x0 for r in requests], first.steps,
                                     first.method, first.warp_s)
        share = (time.perf_counter() - started) / len(group)
        for slot, trajectory in zip(group, trajectories, strict=True):
            self._resolve(slot, finish(slot.job, slot.prepared, trajectory, share))


def pick(training: list[Slot], max_rows: int) -> list[Slot]:
    """A tick's chunks: dragged ones first, then the longest waiting, up to `max_rows` rows (at least one)."""
    picked, rows = [], 0
    for slot in sorted(training, key=lambda s: (not s.job.fresh, s.last_tick)):
        if picked and rows + slot.rows > max_rows:
            continue
        picked.append(slot)
        rows += slot.rows
    return picked


def _step(group: list[Slot]) -> None:
    """One training step for every chunk of a group (one net shape); their losses stay on the device for now."""
    batches = [s.prepared.sampler(s.job.config.batch) for s in group]
    losses = batched_step([s.job.round.trainer for s in group], batches)
    for slot, loss in zip(group, losses, strict=True):
        slot.losses.append(loss)


def _groups(slots: Iterable[Slot], key: Callable[[Slot], object]) -> list[list[Slot]]:
    groups: dict[object, list[Slot]] = {}
    for slot in slots:
        groups.setdefault(key(slot), []).append(slot)
    return list(groups.values())


class BatchedTrainer:
    """Worker threads that train and trace every session's chunks in batches; `submit` a chunk, get a future."""

    def __init__(self, workers: int = 1, max_rows: int = 16384) -> None:
        self.workers = [Worker(max_rows) for _ in range(max(1, workers))]
        for index, worker in enumerate(self.workers):
            worker.thread = threading.Thread(target=worker.run, name=f"rftoy-batched-{index}", daemon=True)
            worker.thread.start()

    def submit(self, job: ChunkJob) -> Future[ChunkResult | None]:
        """Queue a chunk on the least loaded worker; the future gets its result, or None if its session stopped."""
        return min(self.workers, key=lambda w: w.load).submit(job)

    def stats(self) -> WorkerStats:
        total = WorkerStats()
        for worker in self.workers:
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(worker.stats, name))
        return total

    def close(self) -> None:
        """Stop the workers; chunks still queued end with None."""
        for worker in self.workers:
            with worker.wake:
                worker.closed = True
                worker.wake.notify()
        for worker in self.workers:
            if worker.thread is not None:
                worker.thread.join()

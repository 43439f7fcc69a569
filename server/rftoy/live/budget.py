"""The work budget: what one snapshot, one training step or a teacher's trace would cost, and the refusal of
settings that would cost more than `Settings.max_trace_work` multiply-adds."""

from __future__ import annotations

from dataclasses import dataclass

from rftoy.engine.flow import REFLOW_POOL_BATCHES
from rftoy.engine.model import NetShape
from rftoy.engine.solvers import EVALS_PER_STEP
from rftoy.protocol import Config, ProtocolError

BACKWARD_PASSES = 3  # a training step's forward and backward passes, in forward-pass multiply-adds


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


@dataclass(frozen=True, kw_only=True)
class WorkBudget:
    """Refuses (ProtocolError `invalid`) a scene or config over `limit` multiply-adds; teachers trace by rk4 with
    `teacher_steps` steps."""

    limit: float
    teacher_steps: int

    @property
    def teacher_evals(self) -> int:
        return self.teacher_steps * EVALS_PER_STEP["rk4"]

    def check_trace(self, n: int, config: Config, in_reply_to: str, teacher: bool = False,
                    seq: int | None = None) -> None:
        """Refuse n points whose snapshot (or, with `teacher`, whose teacher's trace) costs over the limit."""
        work = trace_work(n, config, self.teacher_evals if teacher else None)
        if work > self.limit:
            what = "tracing the teacher" if teacher else "one snapshot"
            raise ProtocolError("invalid", f"{what} would take {work:.3g} multiply-adds ({n} points), over the limit "
                                f"of {self.limit:.3g}; use fewer points, solver steps or a smaller net", in_reply_to,
                                seq)

    def check_training(self, config: Config, in_reply_to: str, teacher: bool) -> None:
        """Refuse a config whose costliest training step (with a teacher's reflow pool, online) is over the limit."""
        pool = teacher and config.mode == "online"
        work = train_work(config, self.teacher_steps if pool else None)
        if work > self.limit:
            what = "filling the online reflow pool with the teacher" if pool else "one training step"
            raise ProtocolError("invalid", f"{what} would take {work:.3g} multiply-adds (batch {config.batch}), over "
                                f"the limit of {self.limit:.3g}; use a smaller batch or net", in_reply_to)

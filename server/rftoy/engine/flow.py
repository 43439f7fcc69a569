"""Rectified-flow training: the loss, time sampling, couplings, the trainer, reflow and distillation.

Plain torch on tensors: nothing here knows about sessions or sockets. t = 0 is noise (x0), t = 1 is data (x1),
x_t = t·x1 + (1 − t)·x0, and the net learns v(x_t, t) ≈ x1 − x0.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from rftoy.engine import data
from rftoy.engine.model import VelocityMLP, clone_model
from rftoy.engine.solvers import Method, solve, warp_time
from rftoy.engine.transfer import to_device
from rftoy.vocab import TimeSampling

Coupling = Literal["independent", "ot", "reflow"]
Schedule = Literal["cosine", "constant", "rsqrt"]
PairSampler = Callable[[int], tuple[torch.Tensor, torch.Tensor]]
LOSS_HISTORY = 1000
FUSED_ADAM_DEVICES = ("cpu", "cuda")
EMA_WARMUP = 6  # the average's decay is (1 + n) / (EMA_WARMUP + n) after n steps until it reaches `ema`
REFLOW_POOL_BATCHES = 16  # minibatches in the online reflow pool; its first draw traces them all


@dataclass(frozen=True)
class TrainConfig:
    """One training recipe. `steps` is the budget; the cosine schedule decays over it.

    The "rsqrt" schedule needs no budget: the rate holds until `decay_after` steps, then falls as 1/√steps.
    `batch_growth` > 0 doubles the minibatch every that many steps, up to `max_batch` (`Trainer.batch_size`).
    `ema` > 0 keeps an exponential moving average of the weights with that decay (`Trainer.averaged_model`).
    """

    lr: float = 1e-2
    batch: int = 512
    steps: int = 2000
    time_sampling: TimeSampling = "uniform"
    warp_s: float = 1.0
    schedule: Schedule = "cosine"
    warmup: int = 50
    final_lr_fraction: float = 0.02
    converge_window: int = 100
    converge_tol: float = 0.01
    ema: float = 0.0
    decay_after: int = 500
    batch_growth: int = 0
    max_batch: int = 4096
    seed: int = 0


def sample_time(n: int, kind: TimeSampling, gen: torch.Generator, warp_s: float = 1.0,
                device: torch.device | str = "cpu") -> torch.Tensor:
    """Training times in [0, 1]: uniform, Hawley's warp of uniform with slope s, or logit-normal(0, 1)."""
    if kind == "uniform":
        t = torch.rand(n, generator=gen, device=gen.device)
    elif kind == "warp":
        t = warp_time(torch.rand(n, generator=gen, device=gen.device), warp_s)
    elif kind == "logit-normal":
        t = torch.sigmoid(torch.randn(n, generator=gen, device=gen.device))
    else:
        raise ValueError(f"unknown time sampling {kind!r}")
    return t.to(device)


def rf_loss(model: VelocityMLP, x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ‖(x1 − x0) − v(t·x1 + (1 − t)·x0, t)‖²."""
    xt = t[:, None] * x1 + (1 - t[:, None]) * x0
    return ((x1 - x0) - model(xt, t)).square().sum(dim=1).mean()


def ot_assignment(x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
    """Indices p with (x0[i], x1[p[i]]) the exact optimal pairing for squared distances (sizes equal)."""
    a, b = x0.detach().cpu().double().numpy(), x1.detach().cpu().double().numpy()
    rows, cols = linear_sum_assignment(np.square(a[:, None, :] - b[None, :, :]).sum(axis=2))
    order = np.empty_like(cols)
    order[rows] = cols
    return torch.from_numpy(order).to(x1.device)


def random_pairing(x0: torch.Tensor, x1: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The independent coupling of two equal-size sets: x1 in a random order."""
    return x0, x1[torch.randperm(len(x1), generator=gen).to(x1.device)]


def ot_pairing(x0: torch.Tensor, x1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x0, x1[ot_assignment(x0, x1)]


def flow_endpoints(teacher: VelocityMLP, x0: torch.Tensor, steps: int = 32,
                   method: Method = "rk4") -> torch.Tensor:
    """z1 = Flow(x0) under the teacher: the reflow pairing is (x0, z1)."""
    return solve(teacher, x0, steps, method).end


def fixed_pair_sampler(x0: torch.Tensor, x1: torch.Tensor, gen: torch.Generator) -> PairSampler:
    """Minibatches from one fixed pair set (the whole set when it is no larger than the batch)."""

    def draw(batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        if batch >= len(x0):
            return x0, x1
        pick = torch.randint(0, len(x0), (batch,), generator=gen, device=gen.device).to(x0.device)
        return x0[pick], x1[pick]

    return draw


def reflow_pool_sampler(source: str, teacher: VelocityMLP, gen: torch.Generator, device: torch.device | str = "cpu",
                        teacher_steps: int = 8, pool_batches: int = REFLOW_POOL_BATCHES,
                        refresh_every: int = 8) -> PairSampler:
    """Online reflow pairs (x0, Flow(x0)) for fresh source samples, made by the teacher in slices.

    Solving the teacher for every minibatch would cost ~4·teacher_steps forward passes per training step. A pool
    of `pool_batches` minibatches is made once; every `refresh_every` draws one slice of it is replaced by new
    teacher pairs, so the pool turns over completely every pool_batches·refresh_every steps.
    """
    pool: dict[str, torch.Tensor] = {}
    draws = 0

    def fresh(count: int) -> tuple[torch.Tensor, torch.Tensor]:
        x0 = to_device(data.sample(source, count, gen), device)
        return x0, flow_endpoints(teacher, x0, teacher_steps)

    def draw(batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        nonlocal draws
        if not pool or len(pool["x0"]) != batch * pool_batches:
            pool["x0"], pool["z1"] = fresh(batch * pool_batches)
        elif draws % refresh_every == 0:
            slot = (draws // refresh_every) % pool_batches * batch
            pool["x0"][slot : slot + batch], pool["z1"][slot : slot + batch] = fresh(batch)
        draws += 1
        pick = torch.randint(0, len(pool["x0"]), (batch,), generator=gen).to(pool["x0"].device)
        return pool["x0"][pick], pool["z1"][pick]

    return draw


def online_sampler(source: str, target: str, coupling: Coupling, gen: torch.Generator,
                   device: torch.device | str = "cpu", teacher: VelocityMLP | None = None,
                   teacher_steps: int = 8, ot_block: int = 256) -> PairSampler:
    """Fresh pairs every step: independent, minibatch OT (exact, in blocks of `ot_block`), or reflow."""
    if coupling == "reflow":
        if teacher is None:
            raise ValueError("the reflow coupling needs a teacher flow")
        return reflow_pool_sampler(source, teacher, gen, device, teacher_steps)

    def draw(batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        x0 = to_device(data.sample(source, batch, gen), device)
        x1 = to_device(data.sample(target, batch, gen), device)
        if coupling == "ot":
            blocks = [ot_pairing(a, b) for a, b in zip(x0.split(ot_block), x1.split(ot_block), strict=True)]
            return torch.cat([a for a, _ in blocks]), torch.cat([b for _, b in blocks])
        return x0, x1

    return draw


class Trainer:
    """Adam on one velocity net, with warm-up, an optional cosine decay, and a convergence test.

    The same trainer serves a budgeted run (`train`) and a live session that trains in short chunks and
    changes its pairs in between (`step`); the weights and optimizer state carry over between calls.
    """

    def __init__(self, model: VelocityMLP, config: TrainConfig, distill: bool = False) -> None:
        self.model = model
        self.config = config
        self.distill = distill
        self.device = next(model.parameters()).device
        fused = self.device.type in FUSED_ADAM_DEVICES or None  # one kernel per step instead of one per tensor
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, fused=fused)
        self.time_gen = data.generator(config.seed + 7919, self.device)
        self.steps_done = 0
        self.losses: deque[float] = deque(maxlen=LOSS_HISTORY)
        self._window_best = math.inf
        self._window_sum = 0.0
        self._window_count = 0
        self.converged = False
        self.diverged = False
        self.ema_model = clone_model(model) if config.ema > 0 else None

    def averaged_model(self) -> VelocityMLP:
        """The weight average when the recipe keeps one, else the live net."""
        return self.ema_model if self.ema_model is not None and self.config.ema > 0 else self.model

    def learning_rate(self) -> float:
        c = self.config
        warm = min(1.0, (self.steps_done + 1) / max(1, c.warmup))
        if c.schedule == "constant":
            return c.lr * warm
        if c.schedule == "rsqrt":
            return c.lr * warm * min(1.0, math.sqrt(c.decay_after / (self.steps_done + 1)))
        progress = min(1.0, self.steps_done / max(1, c.steps))
        floor = c.final_lr_fraction
        return c.lr * warm * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))

    def batch_size(self) -> int:
        """The minibatch for the next step: `batch`, doubled every `batch_growth` steps up to `max_batch`."""
        c = self.config
        if c.batch_growth <= 0:
            return c.batch
        return max(c.batch, min(c.max_batch, c.batch << min(16, self.steps_done // c.batch_growth)))

    def loss(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        if self.distill:
            t = torch.zeros(len(x0), device=self.device)
        else:
            t = sample_time(len(x0), self.config.time_sampling, self.time_gen, self.config.warp_s, self.device)
        return rf_loss(self.model, x0, x1, t)

    def step(self, x0: torch.Tensor, x1: torch.Tensor) -> float:
        """One Adam step on the pairs (x0, x1); returns the loss before the step."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate()
        loss = self.loss(x0, x1)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.advance()
        value = loss.item()
        self.record_loss(value)
        return value

    def advance(self) -> None:
        """Book-keeping once the weights moved (alone or in a batched step): the average and the step count."""
        if self.config.ema <= 0:
            self.ema_model = None
        elif self.ema_model is None:  # the recipe changed to keep an average: it starts from the net as it is
            self.ema_model = clone_model(self.model)
        else:
            self._update_average()
        self.steps_done += 1

    def record_loss(self, loss: float) -> None:
        """Log a step's loss and watch for convergence; a batched trainer may log its steps' losses later, in
        order, to save the device a sync per step."""
        self.losses.append(loss)
        self._watch_convergence(loss)

    @torch.no_grad()
    def _update_average(self) -> None:
        decay = min(self.config.ema, (1 + self.steps_done) / (EMA_WARMUP + self.steps_done))
        averaged = list(self.ema_model.parameters())
        torch._foreach_lerp_(averaged, list(self.model.parameters()), 1 - decay)

    def _watch_convergence(self, loss: float) -> None:
        """Converged once a window's mean loss fails to beat the best earlier window by `converge_tol`.

        A non-finite loss means the net diverged (too high a learning rate, say): training stops at once, with
        `diverged` set, instead of stepping on forever.
        """
        if not math.isfinite(loss):
            self.diverged = self.converged = True
            return
        self._window_sum += loss
        self._window_count += 1
        if self._window_count < self.config.converge_window:
            return
        mean = self._window_sum / self._window_count
        self._window_sum, self._window_count = 0.0, 0
        if mean > self._window_best * (1 - self.config.converge_tol):
            self.converged = True
        self._window_best = min(self._window_best, mean)

    def reset_convergence(self) -> None:
        """Forget the loss history's verdict (after the pairs change under the trainer)."""
        self._window_best = math.inf
        self._window_sum, self._window_count = 0.0, 0
        self.converged = False

    def train(self, sampler: PairSampler, steps: int | None = None, stop_when_converged: bool = False) -> None:
        """Run `steps` steps (the config's budget by default) on minibatches from `sampler`."""
        for _ in range(self.config.steps if steps is None else steps):
            x0, x1 = sampler(self.batch_size())
            self.step(x0, x1)
            if stop_when_converged and self.converged:
                return


def distill_config(config: TrainConfig) -> TrainConfig:
    """The recipe for one-step distillation: the same optimiser with a lower rate (it starts close)."""
    return replace(config, lr=config.lr * 0.3, warmup=0)

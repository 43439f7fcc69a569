"""One training step for many velocity nets of one shape at once: stacked weights, batched matmuls, batched Adam.

Each net keeps its own pairs, time draws, learning rate and Adam state (in its trainer's torch optimizer, so a
trainer can step alone or in a batch interchangeably). A batched step equals, to float tolerance, the step each
trainer would take alone with `Trainer.step` on the same minibatch: the losses are summed, and as no weight is
shared, each net's gradient is that of its own loss.

Nets whose minibatches differ in size share a step too: rows are padded to the largest and weighted so that each
net's loss is still the mean over its own rows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch
from torch.optim.adam import adam

from rftoy.engine import stacked_trace
from rftoy.engine.flow import Trainer, sample_time
from rftoy.engine.model import ACTIVATIONS, NetShape, VelocityMLP
from rftoy.engine.solvers import EVALS_PER_STEP, Method, Trajectory, time_grid


def shape_key(trainer: Trainer) -> tuple[NetShape, str]:
    """Trainers with equal keys can share a batched step."""
    return trainer.model.shape, str(trainer.device)


def stacked_forward(weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor], activation: str,
                    x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """v for S nets at once, for training: weights (S, out, in), biases (S, out), points (S, B, 2), times (S, B)
    → (S, B, 2). (Traces run compiled: rftoy.engine.stacked_trace.)"""
    act = ACTIVATIONS[activation]
    h = torch.cat([x, t[..., None]], dim=2)
    last = len(weights) - 1
    for index, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = torch.baddbmm(b[:, None, :], h, w.transpose(1, 2))
        if index < last:
            h = act(h)
    return h


def _times(trainer: Trainer, n: int) -> torch.Tensor:
    """The trainer's own time draw for n rows (what `Trainer.loss` would draw)."""
    if trainer.distill:
        return torch.zeros(n, device=trainer.device)
    c = trainer.config
    return sample_time(n, c.time_sampling, trainer.time_gen, c.warp_s, trainer.device)


def _padded(rows: list[torch.Tensor], size: int) -> torch.Tensor:
    """Stack tensors of (n_i, ...) rows into (S, size, ...), zero-padded."""
    if all(len(r) == size for r in rows):
        return torch.stack(rows)
    out = rows[0].new_zeros((len(rows), size, *rows[0].shape[1:]))
    for index, r in enumerate(rows):
        out[index, : len(r)] = r
    return out


def _adam_state(trainer: Trainer) -> list[dict[str, torch.Tensor]]:
    """The optimizer's per-parameter state, created empty (step 0) the way torch's Adam creates it (a fused or
    capturable Adam keeps its step count on the parameter's device)."""
    group = trainer.optimizer.param_groups[0]
    step_device = trainer.device if group.get("fused") or group.get("capturable") else "cpu"
    states = []
    for p in trainer.model.ordered_parameters:
        state = trainer.optimizer.state[p]
        if not state:
            state["step"] = torch.zeros((), device=step_device)
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        states.append(state)
    return states


def _losses(trainers: Sequence[Trainer], batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
            stacked: list[torch.Tensor]) -> torch.Tensor:
    """Each net's loss on its own minibatch, (S,): the mean over its own rows of the flow-matching error."""
    rows = [len(x0) for x0, _ in batches]
    size = max(rows)
    x0 = _padded([b[0] for b in batches], size)
    x1 = _padded([b[1] for b in batches], size)
    t = _padded([_times(tr, n) for tr, n in zip(trainers, rows, strict=True)], size)
    v = stacked_forward(stacked[0::2], stacked[1::2], trainers[0].model.shape.activation,
                        t[..., None] * x1 + (1 - t[..., None]) * x0, t)
    per_row = ((x1 - x0) - v).square().sum(dim=2)
    if all(n == size for n in rows):
        return per_row.mean(dim=1)
    weight = _padded([torch.full((n,), 1.0 / n, device=x0.device) for n in rows], size)
    return (per_row * weight).sum(dim=1)


def batched_step(trainers: Sequence[Trainer], batches: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """One Adam step for every trainer on its own minibatch (x0, x1); returns the losses before the step, (S,)
    on the device, for the caller to hand to each `Trainer.record_loss` when it next reads the device.

    All trainers must share `shape_key`. Plain Adam only (no weight decay, amsgrad or maximize), as `Trainer`
    builds it.
    """
    params = [tr.model.ordered_parameters for tr in trainers]
    with torch.no_grad():
        stacked = [torch.stack([own[index] for own in params]) for index in range(len(params[0]))]
    for tensor in stacked:
        tensor.requires_grad_()
    losses = _losses(trainers, batches, stacked)
    grads = torch.autograd.grad(losses.sum(), stacked)
    with torch.no_grad():
        _adam_update(trainers, params, grads)
    for trainer in trainers:
        trainer.advance()
    return losses.detach()


def _adam_update(trainers: Sequence[Trainer], params: list[tuple[torch.Tensor, ...]],
                 grads: Sequence[torch.Tensor]) -> None:
    """Each trainer's own Adam step on its own parameters and state, from its rows of the stacked gradients:
    torch's Adam kernel, once for all the trainers that share a learning rate. (The fused kernel reads its
    tensors as contiguous: a weight's gradient comes back transposed from the forward's W^T.)"""
    own_grads = [grad.contiguous().unbind(0) for grad in grads]
    by_rate: dict[float, list[int]] = {}
    for index, trainer in enumerate(trainers):
        lr = trainer.learning_rate()
        trainer.optimizer.param_groups[0]["lr"] = lr
        by_rate.setdefault(lr, []).append(index)
    group = trainers[0].optimizer.param_groups[0]
    beta1, beta2 = group["betas"]
    for lr, members in by_rate.items():
        states = [state for index in members for state in _adam_state(trainers[index])]
        adam(
            [p for index in members for p in params[index]],
            [g[index] for index in members for g in own_grads],
            [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states], [], [s["step"] for s in states],
            foreach=group["foreach"], fused=group["fused"], capturable=group["capturable"], amsgrad=False,
            beta1=beta1, beta2=beta2, lr=lr, weight_decay=0.0, eps=group["eps"], maximize=False)


def stacked_parameters(models: Sequence[VelocityMLP]) -> list[torch.Tensor]:
    """The nets' parameters stacked, in the flat layout's order: W (S, out, in), then b (S, out), of each layer;
    copies, detached."""
    own = [m.ordered_parameters for m in models]
    with torch.no_grad():
        return [torch.stack([p[index] for p in own]) for index in range(len(own[0]))]


def stacked_flat_weights(parameters: Sequence[torch.Tensor]) -> torch.Tensor:
    """Each net's flat weight array (rftoy.engine.model's layout), (S, P), from `stacked_parameters`."""
    return torch.cat([p.flatten(1) for p in parameters], dim=1).float()


@torch.no_grad()
def stacked_solve(models: Sequence[VelocityMLP], starts: Sequence[torch.Tensor], steps: int, method: Method,
                  warp_s: float = 1.0, parameters: Sequence[torch.Tensor] | None = None) -> list[Trajectory]:
    """`solve` for several nets of one shape on one grid at once; each net traces its own start points. Pass
    their `stacked_parameters` if the caller has them already.

    The loop runs compiled, without the GIL (rftoy.engine.stacked_trace)."""
    if method not in EVALS_PER_STEP:
        raise ValueError(f"unknown solver {method!r}; choose one of {', '.join(EVALS_PER_STEP)}")
    parameters = parameters if parameters is not None else stacked_parameters(models)
    z0 = _padded(list(starts), max(len(x) for x in starts))
    times = _shared_time_grid(steps, warp_s, z0.device, z0.dtype)
    points = stacked_trace.trace(list(parameters[0::2]), [b[:, :, None] for b in parameters[1::2]],
                                 models[0].shape.activation, z0, times, method)
    nfe = steps * EVALS_PER_STEP[method]
    if points.device.type != "cpu":
        return [Trajectory(points[:, i, : len(x)].contiguous(), times, nfe) for i, x in enumerate(starts)]
    host = points.numpy()  # each net's rows copied by numpy, without a tensor op per net
    return [Trajectory(torch.from_numpy(np.ascontiguousarray(host[:, i, : len(x)])), times, nfe)
            for i, x in enumerate(starts)]


@functools.lru_cache(maxsize=64)
def _shared_time_grid(steps: int, warp_s: float, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """`time_grid`, made once per grid: the trajectories of every trace on it share the tensor (read only)."""
    return time_grid(steps, warp_s, device, dtype)

"""The snapshot trace of many nets at once, compiled with TorchScript so that it runs without Python's GIL.

A trace is hundreds of small tensor operations. Run from Python, each one takes the GIL back when it ends, and
the event loop holds the GIL while it handles messages: under load, a batched trace took several times as long
beside a busy Python thread. TorchScript runs the whole loop in C++ with the GIL released: its time does not
change beside a busy thread, and two worker threads trace in parallel (docs/engine.md, "Measurements behind the
code"). (`torch.jit.script` is deprecated in recent torch in favour of `torch.compile`, which needs a C++
compiler at run time; it works in the versions we support, and tests/engine/test_batched.py holds the result to
`solve`.)

The arithmetic is `rftoy.engine.solvers`' Euler, midpoint and RK4 steps and `rftoy.engine.model`'s forward pass,
laid out feature-major: points are (S, 2, n) and each layer computes W·h, so the matmuls have the n points as their
long side (the 2-wide output layer gains most), and the input layer folds the time into its bias and multiplies
only (x, y), which takes less CPU per trace than the row-major layout.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from rftoy.engine.model import gelu_in_place


def _activate(h: torch.Tensor, activation: str) -> torch.Tensor:
    """The named activation, in place (as model.ACTIVATIONS_IN_PLACE, which TorchScript cannot look up)."""
    if activation == "gelu":
        return gelu_in_place(h)
    if activation == "silu":
        return F.silu(h, inplace=True)
    if activation == "tanh":
        return h.tanh_()
    return h.relu_()


def _velocity(weights: list[torch.Tensor], biases: list[torch.Tensor], activation: str, z: torch.Tensor,
              t: torch.Tensor) -> torch.Tensor:
    """v for S nets: weights (S, out, in), biases (S, out, 1), points (S, 2, n), a scalar time → (S, 2, n)."""
    first = weights[0]
    h = _activate(torch.baddbmm(torch.addcmul(biases[0], first[:, :, 2:3], t), first[:, :, :2], z), activation)
    last = len(weights) - 1
    for index in range(1, len(weights)):
        h = torch.baddbmm(biases[index], weights[index], h)
        if index < last:
            h = _activate(h, activation)
    return h


def _trace(weights: list[torch.Tensor], biases: list[torch.Tensor], activation: str, z0: torch.Tensor,
           times: torch.Tensor, method: str) -> torch.Tensor:
    """Positions (steps + 1, S, n, 2) on the grid `times`, from starts z0 (S, n, 2)."""
    points = [z0.transpose(1, 2).contiguous()]
    for k in range(times.shape[0] - 1):
        z, t = points[-1], times[k]
        dt = times[k + 1] - t
        if method == "euler":
            z = z + dt * _velocity(weights, biases, activation, z, t)
        elif method == "midpoint":
            half = z + 0.5 * dt * _velocity(weights, biases, activation, z, t)
            z = z + dt * _velocity(weights, biases, activation, half, t + 0.5 * dt)
        else:
            k1 = _velocity(weights, biases, activation, z, t)
            k2 = _velocity(weights, biases, activation, z + 0.5 * dt * k1, t + 0.5 * dt)
            k3 = _velocity(weights, biases, activation, z + 0.5 * dt * k2, t + 0.5 * dt)
            k4 = _velocity(weights, biases, activation, z + dt * k3, t + dt)
            z = z + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        points.append(z)
    return torch.stack(points).transpose(2, 3)


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    trace = torch.jit.script(_trace)

"""ODE solvers for dz/dt = v(z, t) from t = 0 (noise) to t = 1 (data), returning whole trajectories."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from rftoy.vocab import Method

Velocity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
EVALS_PER_STEP: dict[str, int] = {"euler": 1, "midpoint": 2, "rk4": 4}


@dataclass
class Trajectory:
    """points: (steps + 1, n, 2) positions on the grid `times`; nfe: velocity evaluations used."""

    points: torch.Tensor
    times: torch.Tensor
    nfe: int

    @property
    def end(self) -> torch.Tensor:
        return self.points[-1]


def warp_time(t: torch.Tensor, s: float) -> torch.Tensor:
    """Hawley's cubic time warp with slope `s` at t = ½: s = 1 is the identity, s < 1 takes smaller steps near the
    middle and s > 1 smaller steps near the ends (s = 1.5 is close to the cosine schedule)."""
    if not 0.0 <= s <= 1.5:
        raise ValueError(f"warp slope s must lie in [0, 1.5], got {s}")
    return 4 * (1 - s) * t**3 + 6 * (s - 1) * t**2 + (3 - 2 * s) * t


def time_grid(steps: int, warp_s: float = 1.0, device: torch.device | str = "cpu",
              dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """steps + 1 times from 0 to 1, uniform or warped."""
    if steps < 1:
        raise ValueError(f"a solve needs at least one step, got {steps}")
    return warp_time(torch.linspace(0.0, 1.0, steps + 1, device=device, dtype=dtype), warp_s)


def _step(v: Velocity, z: torch.Tensor, t: torch.Tensor, dt: torch.Tensor, method: str) -> torch.Tensor:
    if method == "euler":
        return z + dt * v(z, t)
    if method == "midpoint":
        return z + dt * v(z + 0.5 * dt * v(z, t), t + 0.5 * dt)
    k1 = v(z, t)
    k2 = v(z + 0.5 * dt * k1, t + 0.5 * dt)
    k3 = v(z + 0.5 * dt * k2, t + 0.5 * dt)
    k4 = v(z + dt * k3, t + dt)
    return z + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


@torch.no_grad()
def solve(v: Velocity, z0: torch.Tensor, steps: int, method: Method = "rk4", warp_s: float = 1.0) -> Trajectory:
    """Integrate from z0 over `steps` steps of `method` on a uniform (or warped) grid."""
    if method not in EVALS_PER_STEP:
        raise ValueError(f"unknown solver {method!r}; choose one of {', '.join(EVALS_PER_STEP)}")
    times = time_grid(steps, warp_s, z0.device, z0.dtype)
    points = [z0]
    for k in range(steps):
        points.append(_step(v, points[-1], times[k], times[k + 1] - times[k], method))
    return Trajectory(torch.stack(points), times, steps * EVALS_PER_STEP[method])

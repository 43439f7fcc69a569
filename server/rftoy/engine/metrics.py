"""The metrics (docs/engine.md, "Metrics"): the single definitions used by the UI, the CLI, tests and benchmarks."""

from __future__ import annotations

from typing import Any

import torch

from rftoy.engine import data
from rftoy.engine.flow import ot_assignment
from rftoy.engine.solvers import Method, Trajectory, Velocity, solve

CROSSING_SUBSET = 512
CROSSING_SEED = 1234


def _orientation(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Sign of the turn a → b → c (positive counter-clockwise, zero collinear), broadcast over pairs."""
    cross = (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0])
    return torch.sign(cross)


def crossing_fraction(x0: torch.Tensor, x1: torch.Tensor) -> float:
    """Share of unordered pairs (i, j) whose segments [x0_i, x1_i] and [x0_j, x1_j] properly intersect.

    Proper intersection: each segment's endpoints lie strictly on opposite sides of the other's line, so
    touching, collinear and parallel segments do not count. Above 512 pairs a fixed-seed subset of 512 is used.
    """
    if len(x0) > CROSSING_SUBSET:
        pick = torch.randperm(len(x0), generator=data.generator(CROSSING_SEED))[:CROSSING_SUBSET]
        x0, x1 = x0[pick.to(x0.device)], x1[pick.to(x0.device)]
    n = len(x0)
    if n < 2:
        return 0.0
    a, b = x0.double()[:, None], x1.double()[:, None]
    c, d = x0.double()[None, :], x1.double()[None, :]
    proper = (_orientation(a, b, c) * _orientation(a, b, d) < 0) & (_orientation(c, d, a) * _orientation(c, d, b) < 0)
    crossings = int(torch.triu(proper, diagonal=1).sum())
    return crossings / (n * (n - 1) / 2)


def transport_cost(x0: torch.Tensor, x1: torch.Tensor) -> tuple[float, float]:
    """(E‖x1 − x0‖², E‖x1 − x0‖) over the pairing."""
    distance = (x1 - x0).double().norm(dim=1)
    return float(distance.square().mean()), float(distance.mean())


@torch.no_grad()
def straightness(v: Velocity, trajectory: Trajectory) -> tuple[float, float]:
    """(S, S / E‖z1 − z0‖²) with S = ∫₀¹ E‖(z1 − z0) − v(z_t, t)‖² dt by the trapezoid rule on the solver grid."""
    points, times = trajectory.points, trajectory.times
    chord = points[-1] - points[0]
    deviation = torch.stack([(chord - v(z, t)).square().sum(dim=1).mean() for z, t in zip(points, times, strict=True)])
    s = float(torch.trapezoid(deviation.double(), times.double()))
    scale = float(chord.double().square().sum(dim=1).mean())
    return s, s / scale if scale > 0 else 0.0


def wasserstein2(samples: torch.Tensor, target: torch.Tensor) -> float:
    """W2 between two equal-size empirical sets by exact assignment on squared distances."""
    if len(samples) != len(target):
        raise ValueError("W2 by exact assignment needs sets of equal size")
    matched = target[ot_assignment(samples, target)]
    return float((samples - matched).double().square().sum(dim=1).mean().sqrt())


def energy_distance(samples: torch.Tensor, target: torch.Tensor) -> float:
    """2·E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖ (V-statistic); zero for identical sets."""
    x, y = samples.double().cpu(), target.double().cpu()
    value = 2 * torch.cdist(x, y).mean() - torch.cdist(x, x).mean() - torch.cdist(y, y).mean()
    return float(value.clamp_min(0.0))


def w2_floor(target: torch.Tensor, target_name: str, gen: torch.Generator, repeats: int = 4) -> float:
    """The W2 a perfect generator would score against the set `target`: W2 between it and fresh draws.

    One such W2 varies a good deal from draw to draw (mostly how the mass happens to split between the modes;
    docs/engine.md, "Metrics"), so this is the mean over `repeats` independent draws, each scored against the same
    `target` set that generated samples are scored against.
    """
    draws = [wasserstein2(data.sample(target_name, len(target), gen).to(target.device), target)
             for _ in range(repeats)]
    return sum(draws) / repeats


def error_vs_steps(v: Velocity, x0: torch.Tensor, target: torch.Tensor,
                   step_counts: tuple[int, ...]) -> dict[int, dict[str, float | torch.Tensor]]:
    """For each N: samples from N Euler steps, their W2 and energy distance to `target`."""
    results: dict[int, dict[str, float | torch.Tensor]] = {}
    for n in step_counts:
        samples = solve(v, x0, n, "euler").end
        results[n] = {"samples": samples, "w2": wasserstein2(samples, target),
                      "energy": energy_distance(samples, target)}
    return results


def sample_quality(v: Velocity, x0: torch.Tensor, target: torch.Tensor, euler_steps: tuple[int, ...],
                   method: Method, steps: int, warp_s: float = 1.0) -> dict[str, Any]:
    """Samples of the flow from x0 at each of `euler_steps` Euler steps and at the chosen solver, each with its W2
    to `target` (equal sizes, exact assignment): {"euler": [{steps, w2, samples}, …], "chosen": {method, steps,
    w2, samples}}."""
    euler = []
    for n in euler_steps:
        samples = solve(v, x0, n, "euler").end
        euler.append({"steps": n, "w2": _finite_w2(samples, target), "samples": samples})
    samples = solve(v, x0, steps, method, warp_s).end
    chosen = {"method": method, "steps": steps, "w2": _finite_w2(samples, target), "samples": samples}
    return {"euler": euler, "chosen": chosen}


def _finite_w2(samples: torch.Tensor, target: torch.Tensor) -> float | None:
    """W2, or None when a sample is not finite (a diverged net)."""
    return wasserstein2(samples, target) if bool(samples.isfinite().all()) else None

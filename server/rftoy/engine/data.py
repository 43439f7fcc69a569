"""Seeded 2D distributions: every preset can serve as source or target.

All presets live roughly inside [-3, 3]², so the canvas, the limits and the metrics share one scale.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from rftoy.vocab import PLACEMENT_SHIFT

Sampler = Callable[[int, torch.Generator], torch.Tensor]


def _normal(n: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randn(n, 2, generator=gen)


def _uniform(n: int, gen: torch.Generator, low: float, high: float) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, 2, generator=gen)


def _rejection(n: int, gen: torch.Generator, inside: Callable[[torch.Tensor], torch.Tensor],
               half_size: float) -> torch.Tensor:
    """Uniform samples from the region where `inside` holds, within [-half_size, half_size]²."""
    kept: list[torch.Tensor] = []
    count = 0
    while count < n:
        candidates = _uniform(max(2 * (n - count), 64), gen, -half_size, half_size)
        hits = candidates[inside(candidates)]
        kept.append(hits)
        count += len(hits)
    return torch.cat(kept)[:n]


def gaussian(n: int, gen: torch.Generator) -> torch.Tensor:
    return _normal(n, gen)


def two_gaussians(n: int, gen: torch.Generator) -> torch.Tensor:
    side = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    return _normal(n, gen) * 0.5 + torch.stack([2.0 * side, torch.zeros(n)], dim=1)


def eight_gaussians(n: int, gen: torch.Generator) -> torch.Tensor:
    angle = torch.randint(0, 8, (n,), generator=gen) * (math.pi / 4)
    centers = 2.5 * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return centers + 0.2 * _normal(n, gen)


def square(n: int, gen: torch.Generator) -> torch.Tensor:
    return _uniform(n, gen, -2.0, 2.0)


def moons(n: int, gen: torch.Generator) -> torch.Tensor:
    theta = math.pi * torch.rand(n, generator=gen)
    upper = torch.rand(n, generator=gen) < 0.5
    x = torch.where(upper, torch.cos(theta), 1.0 - torch.cos(theta))
    y = torch.where(upper, torch.sin(theta), 0.5 - torch.sin(theta))
    points = torch.stack([x - 0.5, y - 0.25], dim=1) * 2.0
    return points + 0.1 * _normal(n, gen)


def circle(n: int, gen: torch.Generator) -> torch.Tensor:
    angle = 2 * math.pi * torch.rand(n, generator=gen)
    radius = 2.0 + 0.08 * torch.randn(n, generator=gen)
    return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)


def spiral(n: int, gen: torch.Generator) -> torch.Tensor:
    theta = 3 * math.pi * torch.sqrt(torch.rand(n, generator=gen)) + 0.5
    radius = theta / (math.pi * 1.2)
    points = torch.stack([radius * torch.cos(theta), radius * torch.sin(theta)], dim=1)
    return points + 0.08 * _normal(n, gen)


def _inside_heart(p: torch.Tensor) -> torch.Tensor:
    x, y = p[:, 0] / 2.5, p[:, 1] / 2.5
    return x**2 + (1.25 * (y + 0.25) - torch.sqrt(x.abs())) ** 2 <= 1.0


def heart(n: int, gen: torch.Generator) -> torch.Tensor:
    return _rejection(n, gen, _inside_heart, 2.8)


def _inside_smiley(p: torch.Tensor) -> torch.Tensor:
    x, y = p[:, 0], p[:, 1]
    radius = torch.sqrt(x**2 + y**2)
    face_ring = (radius > 2.3) & (radius < 2.6)
    eyes = ((x.abs() - 0.8) ** 2 + (y - 0.8) ** 2) < 0.3**2
    smile = (radius > 1.2) & (radius < 1.6) & (y < -0.5)
    return face_ring | eyes | smile


def smiley(n: int, gen: torch.Generator) -> torch.Tensor:
    return _rejection(n, gen, _inside_smiley, 2.6)


def _inside_checkerboard(p: torch.Tensor) -> torch.Tensor:
    cell = torch.floor(p).long()
    return (cell.sum(dim=1) % 2 == 0) & (p.abs().max(dim=1).values < 2.0)


def checkerboard(n: int, gen: torch.Generator) -> torch.Tensor:
    return _rejection(n, gen, _inside_checkerboard, 2.0)


def _in_triangle(p: torch.Tensor, a: tuple[float, float], b: tuple[float, float],
                 c: tuple[float, float]) -> torch.Tensor:
    def side(u: tuple[float, float], v: tuple[float, float]) -> torch.Tensor:
        return (v[0] - u[0]) * (p[:, 1] - u[1]) - (v[1] - u[1]) * (p[:, 0] - u[0])

    s1, s2, s3 = side(a, b), side(b, c), side(c, a)
    return ((s1 >= 0) & (s2 >= 0) & (s3 >= 0)) | ((s1 <= 0) & (s2 <= 0) & (s3 <= 0))


def _inside_cat(p: torch.Tensor) -> torch.Tensor:
    """A cat's head: a round face, two pointed ears, and two almond eyes left empty."""
    mirrored = torch.stack([p[:, 0].abs(), p[:, 1]], dim=1)
    face = (p[:, 0] / 1.7) ** 2 + ((p[:, 1] + 0.4) / 1.35) ** 2 <= 1.0
    ears = _in_triangle(mirrored, (0.3, 0.4), (1.6, 0.2), (1.2, 2.2))
    eyes = ((mirrored[:, 0] - 0.65) / 0.32) ** 2 + ((p[:, 1] + 0.15) / 0.2) ** 2 <= 1.0
    return (face | ears) & ~eyes


def cat(n: int, gen: torch.Generator) -> torch.Tensor:
    return _rejection(n, gen, _inside_cat, 2.4)


PRESETS: dict[str, Sampler] = {  # in the order of rftoy.vocab.PRESET_NAMES
    "gaussian": gaussian,
    "two-gaussians": two_gaussians,
    "eight-gaussians": eight_gaussians,
    "square": square,
    "moons": moons,
    "circle": circle,
    "spiral": spiral,
    "heart": heart,
    "smiley": smiley,
    "checkerboard": checkerboard,
    "cat": cat,
}


SIDES = {"": 0.0, "left": -PLACEMENT_SHIFT, "right": PLACEMENT_SHIFT}


def generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A seeded generator; one on the training device draws there without a host round trip."""
    return torch.Generator(device=device).manual_seed(seed)


def sample(name: str, n: int, gen: torch.Generator) -> torch.Tensor:
    """`n` float32 points of the named preset on the CPU, drawn from `gen`; a name placed by
    `rftoy.vocab.placed` ('moons@right') draws the preset moved PLACEMENT_SHIFT to that side."""
    preset, _, side = name.partition("@")
    if preset not in PRESETS or side not in SIDES:
        raise ValueError(f"unknown distribution {name!r}; choose one of {', '.join(PRESETS)}")
    points = PRESETS[preset](n, gen).float()
    return points + torch.tensor([SIDES[side], 0.0]) if side else points


LOW_DISCREPANCY: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gaussian": lambda u: torch.special.ndtri(u.clamp(1e-7, 1 - 1e-7)),
    "square": lambda u: 4.0 * u - 2.0,
}


def evaluation_sample(name: str, n: int, seed: int) -> torch.Tensor:
    """Noise points for scoring a flow: a scrambled Sobol draw mapped through the inverse CDF where the preset has
    one (gaussian, square), else an ordinary seeded draw.

    A random draw of 2000 Gaussian points often puts 51 % of them on one side of a line, and a faithful flow carries
    that imbalance into its samples, which W2 scores as error; the low-discrepancy draw gives every region its share.
    """
    if name not in LOW_DISCREPANCY:
        return sample(name, n, generator(seed))
    uniform = torch.quasirandom.SobolEngine(dimension=2, scramble=True, seed=seed).draw(n)
    return LOW_DISCREPANCY[name](uniform).float()


def points_from(values: list[list[float]] | torch.Tensor) -> torch.Tensor:
    """An explicit user point set as an (n, 2) float32 tensor; rejects wrong shapes and non-finite values."""
    points = torch.as_tensor(values, dtype=torch.float32)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {tuple(points.shape)}")
    if not torch.isfinite(points).all():
        raise ValueError("points must be finite numbers")
    return points

"""The benchmark's yardstick: random (and Sobol) noise carried to samples by Euler steps, scored by W2 against a
fresh target draw and divided by the floor; docs/cli.md explains it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from rftoy.engine import data, metrics
from rftoy.engine.solvers import Method, solve

EVAL_N = 2000
EVAL_EULER_STEPS = 100
FLOOR_REPEATS = 4
SCREEN_DIRECTIONS = 32


def sliced_w2_bound(samples: torch.Tensor, target: torch.Tensor) -> float:
    """The largest W2 between the two sets' projections on SCREEN_DIRECTIONS lines through the origin.

    Projecting is 1-Lipschitz, so this never exceeds the W2 of the sets themselves; it costs two sorts where
    the exact W2 costs an assignment.
    """
    angle = torch.arange(SCREEN_DIRECTIONS) * math.pi / SCREEN_DIRECTIONS
    directions = torch.stack([angle.cos(), angle.sin()], dim=1)
    a, b = ((points @ directions.T).sort(dim=0).values for points in (samples, target))
    return float((a - b).double().square().mean(dim=0).max().sqrt())


@dataclass
class Yardstick:
    """One seed's evaluation: random and Sobol noise points, a target draw, and its W2 floor."""

    noise: torch.Tensor
    sobol: torch.Tensor
    target: torch.Tensor
    floor: float


def yardstick(target: str, seed: int, n: int = EVAL_N) -> Yardstick:
    """The evaluation sets of a seed; both loops are scored on the same ones. The floor is the mean over
    FLOOR_REPEATS draws (one W2 between two draws varies widely at n = 2000: docs/cli.md)."""
    gen = data.generator(10_000 + seed)
    noise, reference = data.sample("gaussian", n, gen), data.sample(target, n, gen)
    return Yardstick(noise, data.evaluation_sample("gaussian", n, seed), reference,
                     metrics.w2_floor(reference, target, gen, FLOOR_REPEATS))


@torch.no_grad()
def samples(model: nn.Module, noise: torch.Tensor, steps: int = EVAL_EULER_STEPS,
            method: Method = "euler") -> torch.Tensor:
    return solve(model, noise, steps, method).end


def score(model: nn.Module, stick: Yardstick, sobol: bool = False, steps: int = EVAL_EULER_STEPS,
          method: Method = "euler") -> float:
    """W2 / floor of the flow's samples from the yardstick's random (or Sobol) noise; the yardstick's solver is
    EVAL_EULER_STEPS Euler steps, another can be asked for to see the solver's share."""
    ends = samples(model, stick.sobol if sobol else stick.noise, steps, method)
    return metrics.wasserstein2(ends, stick.target) / stick.floor


def w2_matched(samples: torch.Tensor, matched: torch.Tensor) -> float:
    """The transport cost √(mean ‖x − y‖²) of pairing samples[i] with matched[i]: W2 when the pairing is optimal."""
    return float((samples - matched).double().square().sum(dim=1).mean().sqrt())

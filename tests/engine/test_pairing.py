"""The two ways to straight paths compared (issue 15): better pairing up front (exact OT) or reflow."""

from __future__ import annotations

import pytest
import torch
from rftoy.engine import data, metrics
from rftoy.engine.flow import TrainConfig, Trainer, fixed_pair_sampler, flow_endpoints, ot_pairing, random_pairing
from rftoy.engine.model import NetShape, VelocityMLP, clone_model
from rftoy.engine.solvers import solve
from rftoy.live.chunk import ot_order

N = 256
NET = NetShape(32, 3, "silu")


@pytest.fixture(scope="module")
def points() -> tuple[torch.Tensor, torch.Tensor]:
    gen = data.generator(11)
    return data.sample("gaussian", N, gen), data.sample("moons", N, gen)


def train_on(x0: torch.Tensor, x1: torch.Tensor, steps: int = 700) -> VelocityMLP:
    torch.manual_seed(3)
    model = VelocityMLP(NET)
    Trainer(model, TrainConfig(lr=5e-3, batch=N, steps=steps, seed=3)).train(
        fixed_pair_sampler(x0, x1, data.generator(5)))
    return model


@pytest.fixture(scope="module")
def random_flow(points: tuple[torch.Tensor, torch.Tensor]) -> VelocityMLP:
    return train_on(*points)


def closest_approach(x0: torch.Tensor, x1: torch.Tensor) -> float:
    """The least distance, over pairs i ≠ j and t in [0, 1], between x_t of path i and x_t of path j."""
    u = (x0[:, None] - x0[None, :]).double()  # gap at t = 0
    w = (x1[:, None] - x1[None, :]).double()  # gap at t = 1
    d = w - u
    t = (-(u * d).sum(-1) / d.square().sum(-1).clamp_min(1e-30)).clamp(0, 1)
    gap = (u + t[..., None] * d).norm(dim=-1)
    gap.fill_diagonal_(float("inf"))
    return float(gap.min())


def test_ot_pairing_costs_least_of_the_pairings_tried(points, random_flow) -> None:
    x0, x1 = points
    ot_cost = metrics.transport_cost(*ot_pairing(x0, x1))[0]
    tried = {"scene's random pairing": metrics.transport_cost(x0, x1)[0],
             "1-RF's pairing (x0, z1)": metrics.transport_cost(x0, flow_endpoints(random_flow, x0))[0]}
    gen = data.generator(2)
    for k in range(5):
        tried[f"random permutation {k}"] = metrics.transport_cost(*random_pairing(x0, x1, gen))[0]
    for name, cost in tried.items():
        assert ot_cost < cost, f"OT cost {ot_cost:.4f} is not below {name}'s {cost:.4f}"
    # the live session's OT round pairs the same way (one block: exact)
    assert torch.equal(x1[ot_order(x0, x1)], ot_pairing(x0, x1)[1])


def test_straight_ot_paths_never_meet_at_the_same_time(points) -> None:
    x0, x1 = points
    ot_x1 = ot_pairing(x0, x1)[1]
    assert closest_approach(x0, ot_x1) > 1e-6
    assert closest_approach(x0, x1) < 0.02  # random paths nearly meet
    ot_crossing, random_crossing = metrics.crossing_fraction(x0, ot_x1), metrics.crossing_fraction(x0, x1)
    assert ot_crossing < 0.03, ot_crossing  # segments may still cross, at different times
    assert random_crossing > 0.15, random_crossing


def test_a_flow_trained_on_the_ot_pairing_is_straighter_than_1rf(points, random_flow) -> None:
    x0, x1 = points
    ot_flow = train_on(*ot_pairing(x0, x1))
    straightness = {name: metrics.straightness(model, solve(model, x0, 16, "rk4"))[1]
                    for name, model in (("OT", ot_flow), ("1-RF", random_flow))}
    assert straightness["OT"] < 0.5 * straightness["1-RF"], straightness


def test_reflow_improves_one_step_samples_on_moons(points, random_flow) -> None:
    x0 = points[0]
    two_rf = clone_model(random_flow)
    z1 = flow_endpoints(random_flow, x0)
    Trainer(two_rf, TrainConfig(lr=2e-3, batch=N, steps=500, warmup=0, seed=4)).train(
        fixed_pair_sampler(x0, z1, data.generator(6)))
    start = data.sample("gaussian", N, data.generator(21))
    target = data.sample("moons", N, data.generator(22))
    w2 = {name: metrics.wasserstein2(solve(model, start, 1, "euler").end, target)
          for name, model in (("1-RF", random_flow), ("2-RF", two_rf))}
    assert w2["2-RF"] < w2["1-RF"], w2

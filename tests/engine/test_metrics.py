"""Metrics on hand-made inputs whose answers are known exactly."""

import pytest
import torch
from rftoy.engine import data, metrics
from rftoy.engine.solvers import solve


def segments(*pairs: tuple[tuple[float, float], tuple[float, float]]) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor([p[0] for p in pairs]), torch.tensor([p[1] for p in pairs])


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ((((0, 0), (2, 2)), ((0, 2), (2, 0))), 1.0),  # an X
        ((((0, 0), (1, 1)), ((1, 1), (2, 0))), 0.0),  # touching at an end
        ((((0, 0), (2, 0)), ((1, 0), (1, 1))), 0.0),  # T: one end on the other segment
        ((((0, 0), (2, 0)), ((1, 0), (3, 0))), 0.0),  # collinear, overlapping
        ((((0, 0), (2, 0)), ((0, 1), (2, 1))), 0.0),  # parallel
        ((((0, 0), (1, 1)), ((3, 0), (2, 1))), 0.0),  # apart
    ],
)
def test_crossing_on_hand_made_segments(pairs, expected: float) -> None:
    x0, x1 = segments(*pairs)
    assert metrics.crossing_fraction(x0, x1) == expected


def test_crossing_counts_unordered_pairs() -> None:
    x0, x1 = segments(((0, 0), (2, 2)), ((0, 2), (2, 0)), ((5, 5), (6, 6)))
    assert metrics.crossing_fraction(x0, x1) == pytest.approx(1 / 3)


def test_crossing_uses_a_fixed_subset_above_512_pairs() -> None:
    gen = torch.Generator().manual_seed(0)
    x0, x1 = torch.randn(900, 2, generator=gen), torch.randn(900, 2, generator=gen)
    first = metrics.crossing_fraction(x0, x1)
    assert first == metrics.crossing_fraction(x0, x1)
    assert 0.1 < first < 0.4


def test_transport_cost() -> None:
    x0 = torch.zeros(2, 2)
    x1 = torch.tensor([[3.0, 4.0], [1.0, 0.0]])
    assert metrics.transport_cost(x0, x1) == pytest.approx((13.0, 3.0))


def test_w2_and_energy_distance() -> None:
    gen = torch.Generator().manual_seed(1)
    a = torch.randn(300, 2, generator=gen)
    shifted = a[torch.randperm(300, generator=gen)] + torch.tensor([0.3, -0.4])
    assert metrics.wasserstein2(a, a.flip(0)) == pytest.approx(0.0, abs=1e-9)
    assert metrics.wasserstein2(a, shifted) == pytest.approx(0.5, abs=1e-6)
    assert metrics.energy_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert metrics.energy_distance(a, shifted) > 0.01
    with pytest.raises(ValueError):
        metrics.wasserstein2(a, a[:10])


def test_straightness_is_zero_for_straight_paths_and_positive_for_curved() -> None:
    x0 = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    shift = torch.tensor([2.0, -1.0])

    def straight(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return shift.expand_as(z)

    def curved(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.ones(len(z)), torch.full((len(z),), float(torch.cos(3.14159 * t)))], dim=1)

    s, s_norm = metrics.straightness(straight, solve(straight, x0, 20, "rk4"))
    assert s == pytest.approx(0.0, abs=1e-10) and s_norm == pytest.approx(0.0, abs=1e-10)
    s, s_norm = metrics.straightness(curved, solve(curved, x0, 20, "rk4"))
    assert s == pytest.approx(0.5, rel=0.02)  # ∫ cos²(πt) dt with a chord of (1, 0)
    assert s_norm == pytest.approx(0.5, rel=0.02)


def test_error_vs_steps_reports_each_count() -> None:
    x0 = torch.randn(50, 2, generator=torch.Generator().manual_seed(2))
    target = x0 + 1.0
    results = metrics.error_vs_steps(lambda z, t: torch.ones_like(z), x0, target, (1, 4))
    assert set(results) == {1, 4}
    assert results[1]["w2"] == pytest.approx(0.0, abs=1e-6)


def test_w2_floor_is_the_score_of_fresh_draws_against_the_same_set() -> None:
    target = data.sample("circle", 300, data.generator(0))
    floor = metrics.w2_floor(target, "circle", data.generator(1), repeats=3)
    gen = data.generator(1)
    by_hand = [metrics.wasserstein2(data.sample("circle", 300, gen), target) for _ in range(3)]
    assert floor == pytest.approx(sum(by_hand) / 3)
    assert 0 < floor < 0.5

"""Presets: seeded, finite, in range; explicit point sets are validated."""

import pytest
import torch
from rftoy.engine import data
from rftoy.vocab import PLACEMENT_SHIFT, placed


@pytest.mark.parametrize("name", list(data.PRESETS))
def test_presets_are_seeded_finite_and_in_range(name: str) -> None:
    first = data.sample(name, 500, data.generator(5))
    again = data.sample(name, 500, data.generator(5))
    other = data.sample(name, 500, data.generator(6))
    assert first.shape == (500, 2) and first.dtype == torch.float32
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert torch.isfinite(first).all()
    assert first.abs().max() < 6
    assert first.std(dim=0).min() > 0.2


def test_shapes_differ_from_each_other() -> None:
    cat = data.sample("cat", 2000, data.generator(0))
    assert cat[:, 1].max() > 1.6  # the ears stick up above the round face
    eye = ((cat - torch.tensor([0.65, -0.15])).norm(dim=1) < 0.12).sum()
    assert eye == 0  # the eyes are left empty
    circle = data.sample("circle", 2000, data.generator(0)).norm(dim=1)
    assert (circle - 2).abs().max() < 0.5


def test_a_placed_name_draws_the_same_points_moved_to_its_side() -> None:
    plain = data.sample("moons", 100, data.generator(2))
    right = data.sample(placed("moons", "target", "apart"), 100, data.generator(2))
    left = data.sample(placed("moons", "source", "apart"), 100, data.generator(2))
    assert torch.allclose(right - plain, torch.tensor([PLACEMENT_SHIFT, 0.0]).expand(100, 2))
    assert torch.allclose(plain - left, torch.tensor([PLACEMENT_SHIFT, 0.0]).expand(100, 2))
    assert torch.equal(data.sample(placed("moons", "target", "overlaid"), 100, data.generator(2)), plain)
    with pytest.raises(ValueError, match="unknown distribution"):
        data.sample("moons@up", 10, data.generator(0))


def test_unknown_preset_and_bad_points_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown distribution"):
        data.sample("dragon", 10, data.generator(0))
    with pytest.raises(ValueError, match="shape"):
        data.points_from([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="finite"):
        data.points_from([[1.0, float("nan")]])
    assert data.points_from([[1, 2], [3, 4]]).shape == (2, 2)


def test_evaluation_noise_is_low_discrepancy_and_seeded() -> None:
    points = data.evaluation_sample("gaussian", 2000, seed=0)
    assert torch.equal(points, data.evaluation_sample("gaussian", 2000, seed=0))
    assert torch.isfinite(points).all()
    assert points.mean(dim=0).abs().max() < 0.02
    assert (points.std(dim=0) - 1).abs().max() < 0.03
    for direction in (torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0]), torch.tensor([0.6, 0.8])):
        assert abs(float((points @ direction > 0).float().mean()) - 0.5) < 0.005
    square = data.evaluation_sample("square", 1000, seed=1)
    assert square.abs().max() <= 2.0
    assert torch.equal(data.evaluation_sample("moons", 50, seed=3), data.sample("moons", 50, data.generator(3)))

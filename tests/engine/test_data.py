"""Presets: seeded, finite, in range; explicit point sets are validated."""

import pytest
import torch
from rftoy import data


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


def test_unknown_preset_and_bad_points_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown distribution"):
        data.sample("dragon", 10, data.generator(0))
    with pytest.raises(ValueError, match="shape"):
        data.points_from([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="finite"):
        data.points_from([[1.0, float("nan")]])
    assert data.points_from([[1, 2], [3, 4]]).shape == (2, 2)

"""The benchmark's bookkeeping (its figures are measured by hand, never asserted)."""

from pathlib import Path

import torch
from rftoy import data, metrics
from rftoy.benchmark import median, quality_ratio, sliced_w2_bound, write_section


def test_write_section_replaces_only_its_own_section(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    write_section(results, "## Training", "first")
    write_section(results, "## Browser", "browser figures")
    write_section(results, "## Training", "second")
    text = results.read_text()
    assert text.count("## Training") == 1 and "second" in text and "first" not in text
    assert "## Browser\n\nbrowser figures" in text
    assert text.index("## Training") < text.index("## Browser")


def standing_still() -> torch.nn.Module:
    """A flow whose velocity is zero: it leaves the noise where it is."""
    still = torch.nn.Module()
    still.forward = lambda x, t: torch.zeros_like(x)  # type: ignore[method-assign]
    return still


def test_a_perfect_flow_scores_about_one() -> None:
    """A flow that leaves gaussian noise where it is, scored against gaussian targets, is a perfect generator."""
    gen = data.generator(0)
    sets = [(data.sample("gaussian", 400, gen), data.sample("gaussian", 400, gen)) for _ in range(3)]
    floors = [metrics.w2_floor(reference, "gaussian", gen, repeats=2) for _, reference in sets]
    ratio = quality_ratio(standing_still(), sets, floors)
    assert ratio is not None and 0.7 < ratio < 1.4


def test_a_flow_far_off_is_screened_out_by_the_bound() -> None:
    gen = data.generator(1)
    sets = [(data.sample("gaussian", 400, gen), data.sample("spiral", 400, gen)) for _ in range(3)]
    floors = [metrics.w2_floor(reference, "spiral", gen, repeats=2) for _, reference in sets]
    assert quality_ratio(standing_still(), sets, floors) is None


def test_the_sliced_bound_never_exceeds_w2() -> None:
    gen = data.generator(2)
    for source, target in (("gaussian", "spiral"), ("circle", "moons"), ("spiral", "spiral")):
        a, b = data.sample(source, 300, gen), data.sample(target, 300, gen)
        assert sliced_w2_bound(a, b) <= metrics.wasserstein2(a, b) + 1e-6


def test_median_counts_a_run_that_never_got_there_as_the_slowest() -> None:
    assert median([3.0, None, 1.0]) == 3.0
    assert median([None, 2.0, None]) is None
    assert median([4.0, 1.0]) == 2.5

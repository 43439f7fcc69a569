"""The benchmark's bookkeeping (its figures are measured by hand, never asserted)."""

from pathlib import Path

import torch
from rftoy import data, metrics
from rftoy.benchmark import quality_ratio, write_section


def test_write_section_replaces_only_its_own_section(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    write_section(results, "## Training", "first")
    write_section(results, "## Browser", "browser figures")
    write_section(results, "## Training", "second")
    text = results.read_text()
    assert text.count("## Training") == 1 and "second" in text and "first" not in text
    assert "## Browser\n\nbrowser figures" in text
    assert text.index("## Training") < text.index("## Browser")


def test_a_perfect_flow_scores_about_one() -> None:
    """A flow that leaves gaussian noise where it is, scored against gaussian targets, is a perfect generator."""
    gen = data.generator(0)
    sets = [(data.sample("gaussian", 400, gen), data.sample("gaussian", 400, gen)) for _ in range(3)]
    floors = [metrics.w2_floor(reference, "gaussian", gen, repeats=2) for _, reference in sets]
    still = torch.nn.Module()
    still.forward = lambda x, t: torch.zeros_like(x)  # type: ignore[method-assign]
    assert 0.7 < quality_ratio(still, sets, floors) < 1.4

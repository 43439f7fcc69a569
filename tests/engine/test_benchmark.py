"""The benchmark's bookkeeping (its figures are measured by hand, never asserted)."""

import itertools
import json
from pathlib import Path

import pytest
import torch
from rftoy.benchmark import (
    CURVE_S,
    GRID_GROWTH,
    GRID_START_S,
    SECTION,
    Curve,
    checkpoints,
    main,
    make_loop,
    median,
    quality_curve,
    read_curves,
    recipe_config,
    results_of,
    sliced_w2_bound,
    table,
    time_to_line,
    write_section,
    yardstick,
)
from rftoy.engine import data, metrics
from rftoy.engine.model import NetShape
from rftoy.protocol import Config
from rftoy.results import CHECKOUT_RESULTS, results_path
from rftoy.yardstick import Yardstick, score


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


def test_a_perfect_flow_scores_about_one_and_a_wrong_one_far_above() -> None:
    """Noise left where it is is a perfect generator of gaussian targets, and a poor one of the spiral."""
    assert 0.7 < score(standing_still(), yardstick("gaussian", 0, n=400)) < 1.4
    assert 0.7 < score(standing_still(), yardstick("gaussian", 0, n=400), sobol=True) < 1.4
    assert score(standing_still(), yardstick("spiral", 0, n=400)) > 2


def test_the_yardstick_draws_random_noise_by_seed_and_sobol_beside_it() -> None:
    first, again, other = yardstick("circle", 0, n=300), yardstick("circle", 0, n=300), yardstick("circle", 1, n=300)
    assert torch.equal(first.noise, again.noise) and first.floor == again.floor
    assert not torch.equal(first.noise, other.noise) and not torch.equal(first.noise, first.sobol)
    assert first.floor == pytest.approx(metrics.wasserstein2(data.sample("circle", 300, data.generator(5)),
                                                             first.target), rel=0.5)


def test_the_sliced_bound_never_exceeds_w2() -> None:
    gen = data.generator(2)
    for source, target in (("gaussian", "spiral"), ("circle", "moons"), ("spiral", "spiral")):
        a, b = data.sample(source, 300, gen), data.sample(target, 300, gen)
        assert sliced_w2_bound(a, b) <= metrics.wasserstein2(a, b) + 1e-6


def test_checkpoints_hold_the_curve_and_a_geometric_grid() -> None:
    points = checkpoints(10.0)
    assert points[0] == GRID_START_S and points[-1] == 10.0 and {0.5, 1.0, 3.0, 10.0} <= set(points)
    assert 30.0 not in points and max(CURVE_S) in checkpoints(max(CURVE_S))
    grid = [p for p in points if p not in CURVE_S]
    assert all(b / a == pytest.approx(GRID_GROWTH, rel=1e-4) for a, b in itertools.pairwise(grid))


def test_a_line_is_reached_where_the_flow_starts_to_hold_it() -> None:
    grid = [GRID_START_S * GRID_GROWTH**k for k in range(12)]
    dips_then_holds = [2.0, 1.4, 1.6, 1.4, 1.3, 1.45, 1.2, 1.1, 1.0, 1.0, 1.0, 1.0]
    scored = list(zip(grid, dips_then_holds, strict=True))
    assert time_to_line(scored, 1.5) == grid[3]  # the dip at grid[1] did not last
    assert time_to_line(scored, 1.25) == grid[6]
    assert time_to_line(scored[:8], 1.25) is None  # under the line, but not yet for long enough
    assert time_to_line(scored, 0.5) is None


def test_a_curve_scores_its_checkpoints_and_times_the_lines() -> None:
    """The default net starts at v = 0, a perfect flow onto gaussian targets: the 1.5 line is held early (its first
    training steps may lose it for a grid step or two, how many depends on the machine), at a grid checkpoint."""
    stick: Yardstick = yardstick("gaussian", 0, n=300)
    curve = quality_curve("default", "gaussian", 0, 0.5, stick)
    assert set(curve.ratio) == set(curve.steps) == {"0.5"} and curve.sobol == {}
    assert curve.steps["0.5"] > 0 and 0.5 < curve.ratio["0.5"] < 1.6
    assert curve.reached["1.5"] in checkpoints(0.5) and curve.reached["1.5"] <= 0.2
    far = quality_curve("reference", "spiral", 0, 0.3, yardstick("spiral", 0, n=300), with_sobol=False)
    assert far.reached == {"1.5": None, "1.25": None} and far.ratio == {}


def test_the_live_loop_steps_the_live_online_recipe() -> None:
    current, step = make_loop("live", "circle", data.generator(1))
    model = current()
    before = [p.detach().clone() for p in model.parameters()]
    step()
    config = Config(mode="online")
    assert model.shape == NetShape(config.width, config.depth, config.activation)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert current() is model


def test_a_recipe_is_the_defaults_with_named_changes() -> None:
    cfg = recipe_config("default+ema=0.999+width=128+coupling=ot+zero_output=false")
    assert cfg.train.ema == 0.999 and cfg.net.width == 128 and cfg.coupling == "ot" and not cfg.zero_output
    assert cfg.train.batch == recipe_config().train.batch
    with pytest.raises(ValueError, match="no recipe setting"):
        recipe_config("default+speed=11")
    with pytest.raises(ValueError, match="starts from 'default'"):
        recipe_config("mine+ema=0.9")


def test_the_bench_writes_where_it_is_told_and_in_a_checkout_by_default(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert results_path(None) == CHECKOUT_RESULTS and CHECKOUT_RESULTS.exists()  # the tests run in a checkout
    monkeypatch.chdir(tmp_path)
    curve = Curve("default", "circle", 0, {"0.5": 1.2}, {}, {"1.5": 0.3, "1.25": None}, {"0.5": 9}, load=1.5)
    log = tmp_path / "bench.err"
    log.write_text(json.dumps(curve.__dict__) + "\n")
    chosen = tmp_path / "out" / "mine.md"
    chosen.parent.mkdir()
    assert main(from_log=log, horizon=0.5, results_file=chosen) == 0
    text = chosen.read_text()
    assert text.startswith("# Benchmark results") and SECTION in text and "| circle | default | 1 | 1.20 |" in text
    assert "load average" in text and "1.5" in text
    assert "`python bench/train.py --from-log bench.err` on" in text
    assert not (tmp_path / "RESULTS.md").exists()


def test_median_counts_a_run_that_never_got_there_as_the_slowest() -> None:
    assert median([3.0, None, 1.0]) == 3.0
    assert median([None, 2.0, None]) is None
    assert median([4.0, 1.0]) == 2.5


def test_the_table_reads_a_log_and_says_how_much_sooner_the_default_reached_the_line(tmp_path: Path) -> None:
    def curve(loop: str, seed: int, ratio: float, to_line: float | None) -> Curve:
        return Curve(loop, "circle", seed, {"0.5": ratio}, {}, {"1.5": to_line, "1.25": None}, {"0.5": 9})

    curves = [curve("reference", 0, 2.0, 1.2), curve("reference", 1, 3.0, None), curve("reference", 2, 2.5, 0.9),
              curve("default", 0, 1.4, 0.3), curve("default", 1, 1.2, 0.2), curve("default", 2, 1.3, 0.4)]
    log = tmp_path / "bench.err"
    log.write_text("a warning\n" + "\n".join(json.dumps(c.__dict__) for c in curves) + "\n")
    results = results_of(read_curves(log), 0.5, {})
    assert results["median"]["circle"]["default"]["ratio"] == {"0.5": 1.3}
    assert results["median"]["circle"]["reference"]["reached"] == {"1.5": 1.2, "1.25": None}
    rows = table(results).splitlines()
    assert rows[2].startswith("| circle | reference | 3 | 2.50 | 1.20 s | > 0.5 s | — |")
    assert rows[3].startswith("| circle | default | 3 | 1.30 | 0.30 s | > 0.5 s | 4.0× |")


def test_logs_with_other_loops_on_another_target_tabulate_together(tmp_path: Path) -> None:
    def curve(loop: str, target: str, seed: int) -> Curve:
        return Curve(loop, target, seed, {"0.5": 1.0 + seed}, {}, {"1.5": 0.2, "1.25": None}, {"0.5": 9})

    curves = [curve(loop, "circle", seed) for seed in (0, 1) for loop in ("reference", "default", "live")]
    curves += [curve(loop, "moons", seed) for seed in (0, 1) for loop in ("reference", "default")]
    curves.append(curve("reference", "moons", 2))  # a run cut short: seed 2's default never finished
    results = results_of(curves, 0.5, {})
    assert list(results["median"]["circle"]) == ["reference", "default", "live"]
    assert list(results["median"]["moons"]) == ["reference", "default"]
    assert results["seeds"] == {"circle": [0, 1], "moons": [0, 1]}
    assert results["median"]["moons"]["reference"]["ratio"] == {"0.5": 1.5}

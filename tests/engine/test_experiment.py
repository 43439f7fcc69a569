"""The headless experiment: the paper's claims on gaussian → moons with the default recipe, and the CLI contract."""

import itertools
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from rftoy.engine import data
from rftoy.engine.experiment import ExperimentConfig, fresh_net, run_experiment


@pytest.fixture(scope="module")
def moons_run() -> dict:
    return run_experiment(ExperimentConfig(source="gaussian", target="moons", n=2000, rounds=2, seed=0)).summary


def test_the_first_net_starts_with_a_zero_field_unless_asked_not_to() -> None:
    x, t = torch.randn(16, 2), torch.rand(16)
    zeroed = fresh_net(ExperimentConfig(), data.generator(0))
    random = fresh_net(ExperimentConfig(zero_output=False), data.generator(0))
    assert torch.equal(zeroed(x, t), torch.zeros(16, 2))
    assert random(x, t).abs().max() > 1e-3
    for a, b in zip(zeroed.layers[:-1], random.layers[:-1], strict=True):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)  # only the output layer differs


def test_the_experiment_draws_from_its_own_generators_only() -> None:
    """Its result is set by its seed alone, and torch's global generator is neither seeded nor drawn from."""
    cfg = ExperimentConfig(target="circle", n=64, rounds=1, seed=3, zero_output=False)
    cfg = replace(cfg, train=replace(cfg.train, steps=20, batch=64))
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    first = run_experiment(cfg).arrays["z1_r1"]
    assert torch.equal(torch.random.get_rng_state(), before)
    torch.manual_seed(7)
    assert torch.equal(run_experiment(cfg).arrays["z1_r1"], first)
    assert not torch.equal(run_experiment(replace(cfg, seed=4)).arrays["z1_r1"], first)


@pytest.mark.slow
def test_reflow_uncrosses_the_pairing(moons_run: dict) -> None:
    random, first, second = moons_run["rounds"]
    assert 0.20 <= random["crossing"] <= 0.30
    assert first["crossing"] < 0.02
    assert second["crossing"] <= first["crossing"]


@pytest.mark.slow
def test_transport_cost_does_not_grow_over_rounds(moons_run: dict) -> None:
    costs = [r["cost_sq"] for r in moons_run["rounds"]]
    for before, after in itertools.pairwise(costs):
        assert after <= before * 1.01


@pytest.mark.slow
def test_reflow_straightens_and_makes_one_step_good(moons_run: dict) -> None:
    _, first, second = moons_run["rounds"]
    assert second["straightness_norm"] <= 0.05 * first["straightness_norm"]
    assert second["w2"]["1"] <= 0.3 * first["w2"]["1"]


@pytest.mark.slow
def test_first_flow_reaches_the_target_distribution(moons_run: dict) -> None:
    first = moons_run["rounds"][1]
    assert first["w2"]["100"] <= 1.5 * moons_run["w2_floor"]
    assert first["w2"]["1"] > first["w2"]["8"] > first["w2"]["100"]


def test_cli_prints_the_summary_and_writes_the_arrays(tmp_path: Path) -> None:
    out = tmp_path / "run.npz"
    command = [sys.executable, "-m", "rftoy.cli", "experiment", "--source", "gaussian", "--target", "circle",
               "--n", "120", "--rounds", "2", "--steps", "60", "--reflow-steps", "30", "--seed", "1",
               "--distill", "--json", "--out", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True, check=True, timeout=240)
    summary = json.loads(completed.stdout)
    assert summary["config"]["target"] == "circle" and summary["w2_floor"] > 0
    names = [r["name"] for r in summary["rounds"]]
    assert names == ["random", "1-RF", "2-RF", "2-RF distilled"]
    first = summary["rounds"][1]
    assert set(first["w2"]) == set(first["energy"]) == {"1", "2", "4", "8", "100"}
    assert first["steps"] == 60 and first["train_seconds"] > 0
    arrays = np.load(out)
    expected = {"x0", "x1", "target", "z1_r1", "z1_r2"} | {f"gen_r{k}_n{n}" for k in (1, 2) for n in (1, 2, 4, 8, 100)}
    assert expected <= set(arrays.files)
    assert arrays["x0"].shape == arrays["z1_r2"].shape == (120, 2)


def test_pairs_mode_trains_on_the_fixed_set() -> None:
    cfg = ExperimentConfig(target="two-gaussians", n=64, rounds=2, mode="pairs", reflow_steps=100)
    cfg = replace(cfg, train=replace(cfg.train, steps=200, batch=64))
    result = run_experiment(cfg)
    first, second = result.summary["rounds"][1:]
    assert second["crossing"] <= first["crossing"]
    assert result.arrays["z1_r1"].shape == (64, 2)


def test_unknown_preset_is_a_clear_cli_error() -> None:
    completed = subprocess.run([sys.executable, "-m", "rftoy.cli", "experiment", "--target", "dragon"],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2 and "dragon" in completed.stderr

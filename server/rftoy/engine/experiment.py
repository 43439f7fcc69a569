"""The headless experiment: 1-RF on a random pairing, then reflow rounds (and optionally distillation), measured.

This is the contract behind `rftoy experiment` and the engine's tests: one JSON summary and named arrays.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import torch

from rftoy.engine import data, metrics
from rftoy.engine.flow import (
    Coupling,
    PairSampler,
    TrainConfig,
    Trainer,
    distill_config,
    fixed_pair_sampler,
    online_sampler,
    random_pairing,
)
from rftoy.engine.model import NetShape, VelocityMLP, clone_model, seeded
from rftoy.engine.solvers import solve

Mode = Literal["online", "pairs"]
STEP_COUNTS = (1, 2, 4, 8, 100)


@dataclass(frozen=True)
class ExperimentConfig:
    source: str = "gaussian"
    target: str = "moons"
    n: int = 2000
    rounds: int = 2
    seed: int = 0
    mode: Mode = "online"
    coupling: Coupling = "independent"
    net: NetShape = field(default_factory=lambda: NetShape(activation="gelu"))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(ema=0.999, warmup=5, schedule="rsqrt"))
    reflow_steps: int = 1500
    teacher_steps: int = 8
    eval_steps: int = 100
    distill: bool = False
    low_discrepancy_x0: bool = True
    zero_output: bool = True


@dataclass
class ExperimentResult:
    summary: dict[str, Any]
    arrays: dict[str, torch.Tensor]
    models: list[VelocityMLP]


def _pairing_entry(round_index: int, name: str, x0: torch.Tensor, x1: torch.Tensor) -> dict[str, Any]:
    cost_sq, cost = metrics.transport_cost(x0, x1)
    return {"round": round_index, "name": name, "crossing": metrics.crossing_fraction(x0, x1),
            "cost_sq": cost_sq, "cost": cost}


def _sampler_for_round(cfg: ExperimentConfig, teacher: VelocityMLP | None, x0: torch.Tensor,
                       x1: torch.Tensor, gen: torch.Generator, device: torch.device) -> PairSampler:
    if cfg.mode == "pairs":
        return fixed_pair_sampler(x0, x1, gen)
    coupling: Coupling = "reflow" if teacher is not None else cfg.coupling
    return online_sampler(cfg.source, cfg.target, coupling, gen, device, teacher, cfg.teacher_steps)


def _evaluate(model: VelocityMLP, x0: torch.Tensor, target: torch.Tensor, eval_steps: int,
              step_counts: tuple[int, ...]) -> tuple[dict[str, Any], torch.Tensor, dict[int, torch.Tensor]]:
    trajectory = solve(model, x0, eval_steps, "rk4")
    s, s_norm = metrics.straightness(model, trajectory)
    errors = metrics.error_vs_steps(model, x0, target, step_counts)
    entry = {"straightness": s, "straightness_norm": s_norm,
             "w2": {str(k): e["w2"] for k, e in errors.items()},
             "energy": {str(k): e["energy"] for k, e in errors.items()}}
    return entry, trajectory.end, {k: e["samples"] for k, e in errors.items()}


def fresh_net(cfg: ExperimentConfig, gen: torch.Generator) -> VelocityMLP:
    """1-RF's starting net: random weights from `gen`, with the output layer zeroed when `cfg.zero_output` (the
    field starts at v = 0, so the first steps learn the mean motion instead of first undoing a random field)."""
    model = seeded(lambda: VelocityMLP(cfg.net), gen)
    if cfg.zero_output:
        with torch.no_grad():
            model.layers[-1].weight.zero_()
            model.layers[-1].bias.zero_()
    return model


def run_experiment(cfg: ExperimentConfig, device: torch.device | str = "cpu",
                   log: Callable[[str], None] | None = None) -> ExperimentResult:
    """Train 1-RF and `cfg.rounds - 1` reflow rounds; measure every pairing and flow (docs/engine.md, "Metrics")."""
    device = torch.device(device)
    eval_gen = data.generator(cfg.seed)
    train_gen = data.generator(cfg.seed + 1)
    init_gen = data.generator(cfg.seed)

    if cfg.low_discrepancy_x0:
        x0 = data.evaluation_sample(cfg.source, cfg.n, cfg.seed).to(device)
    else:
        x0 = data.sample(cfg.source, cfg.n, eval_gen).to(device)
    x0, x1 = random_pairing(x0, data.sample(cfg.target, cfg.n, eval_gen).to(device), eval_gen)
    target = data.sample(cfg.target, cfg.n, eval_gen).to(device)
    floor = metrics.w2_floor(target, cfg.target, eval_gen)

    rounds: list[dict[str, Any]] = [_pairing_entry(0, "random", x0, x1)]
    arrays: dict[str, torch.Tensor] = {"x0": x0, "x1": x1, "target": target}
    models: list[VelocityMLP] = []
    pair_target = x1
    teacher: VelocityMLP | None = None

    for k in range(1, cfg.rounds + 1):
        model = clone_model(teacher) if teacher is not None else fresh_net(cfg, init_gen).to(device)
        train_cfg = cfg.train if teacher is None else replace(cfg.train, steps=cfg.reflow_steps, seed=cfg.seed + k)
        trainer = Trainer(model, train_cfg)
        sampler = _sampler_for_round(cfg, teacher, x0, pair_target, train_gen, device)
        started = time.perf_counter()
        trainer.train(sampler)
        seconds = time.perf_counter() - started
        model = trainer.averaged_model()

        evaluation, z1, samples = _evaluate(model, x0, target, cfg.eval_steps, STEP_COUNTS)
        entry = _pairing_entry(k, f"{k}-RF", x0, z1)
        entry.update(evaluation, train_seconds=seconds, steps=trainer.steps_done)
        rounds.append(entry)
        arrays[f"z1_r{k}"] = z1
        arrays.update({f"gen_r{k}_n{n}": s for n, s in samples.items()})
        if log:
            log(f"round {k}: crossing {entry['crossing']:.4f}, W2@1 {entry['w2']['1']:.3f}, "
                f"W2@100 {entry['w2']['100']:.3f} (floor {floor:.3f}), {seconds:.1f} s")
        models.append(model)
        teacher, pair_target = model, z1

    if cfg.distill and teacher is not None:
        rounds.append(_distill_round(cfg, teacher, x0, pair_target, target, train_gen, device, arrays))

    summary = {"config": asdict(cfg), "w2_floor": floor, "rounds": rounds}
    return ExperimentResult(summary, arrays, models)


def _distill_round(cfg: ExperimentConfig, teacher: VelocityMLP, x0: torch.Tensor, z1: torch.Tensor,
                   target: torch.Tensor, gen: torch.Generator, device: torch.device,
                   arrays: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Train v(x0, 0) ≈ z1 − x0 from the last round's teacher so that one Euler step lands on z1."""
    student = clone_model(teacher)
    trainer = Trainer(student, distill_config(replace(cfg.train, steps=cfg.reflow_steps)), distill=True)
    sampler = _sampler_for_round(cfg, teacher, x0, z1, gen, device)
    started = time.perf_counter()
    trainer.train(sampler)
    seconds = time.perf_counter() - started
    one_step = solve(trainer.averaged_model(), x0, 1, "euler").end
    arrays[f"gen_r{cfg.rounds}_distilled_n1"] = one_step
    entry = _pairing_entry(cfg.rounds, f"{cfg.rounds}-RF distilled", x0, one_step)
    entry.update(w2={"1": metrics.wasserstein2(one_step, target)},
                 energy={"1": metrics.energy_distance(one_step, target)}, train_seconds=seconds,
                 steps=trainer.steps_done)
    return entry

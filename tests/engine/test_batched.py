"""Batched training and tracing equal what each net gets alone."""

import pytest
import torch
from rftoy.engine import data
from rftoy.engine.batched import batched_step, stacked_solve
from rftoy.engine.flow import TrainConfig, Trainer, fixed_pair_sampler
from rftoy.engine.model import NetShape, VelocityMLP, export_weights
from rftoy.engine.solvers import solve

SHAPE = NetShape(24, 2, "gelu")
# Different rates, batch sizes (so rows are padded), time samplings and one distilling trainer share each step.
RECIPES = [
    (TrainConfig(lr=5e-3, batch=40, schedule="constant", seed=1), False),
    (TrainConfig(lr=2e-2, batch=64, time_sampling="warp", warp_s=0.5, schedule="cosine", steps=30, seed=2), False),
    (TrainConfig(lr=1e-2, batch=17, time_sampling="logit-normal", warmup=5, seed=3), False),
    (TrainConfig(lr=3e-3, batch=64, schedule="constant", seed=4), True),
]


def _batched_step(trainers: list[Trainer], batches: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    for trainer, loss in zip(trainers, batched_step(trainers, batches).tolist(), strict=True):
        trainer.record_loss(loss)


def _trainers() -> list[tuple[Trainer, object]]:
    """Fresh trainers with their own pair sets and samplers, identical on every call."""
    made = []
    for index, (config, distill) in enumerate(RECIPES):
        torch.manual_seed(index)
        gen = data.generator(index)
        x0, x1 = data.sample("gaussian", 64, gen), data.sample("moons", 64, gen)
        made.append((Trainer(VelocityMLP(SHAPE), config, distill=distill),
                     fixed_pair_sampler(x0, x1, data.generator(100 + index))))
    return made


def test_a_batched_step_equals_each_trainer_stepping_alone() -> None:
    alone, together = _trainers(), _trainers()
    for _ in range(30):
        for trainer, sampler in alone:
            trainer.step(*sampler(trainer.config.batch))
        _batched_step([t for t, _ in together], [s(t.config.batch) for t, s in together])
    for (a, _), (b, _) in zip(alone, together, strict=True):
        assert b.steps_done == a.steps_done == 30
        assert list(b.losses) == pytest.approx(list(a.losses), rel=1e-4)
        assert torch.allclose(export_weights(b.model), export_weights(a.model), atol=1e-5)
        for pa, pb in zip(a.model.parameters(), b.model.parameters(), strict=True):
            sa, sb = a.optimizer.state[pa], b.optimizer.state[pb]
            assert float(sa["step"]) == float(sb["step"]) == 30
            assert torch.allclose(sa["exp_avg_sq"], sb["exp_avg_sq"], rtol=1e-4, atol=1e-9)


def test_a_trainer_moves_between_batched_and_solo_steps() -> None:
    """The Adam state lives in each trainer's optimizer, so batched and solo steps can alternate."""
    alone, mixed = _trainers()[:2], _trainers()[:2]
    for step in range(12):
        for trainer, sampler in alone:
            trainer.step(*sampler(trainer.config.batch))
        batches = [s(t.config.batch) for t, s in mixed]
        if step % 3 == 0:
            for (trainer, _), batch in zip(mixed, batches, strict=True):
                trainer.step(*batch)
        else:
            _batched_step([t for t, _ in mixed], batches)
    for (a, _), (b, _) in zip(alone, mixed, strict=True):
        assert torch.allclose(export_weights(b.model), export_weights(a.model), atol=1e-5)


def test_a_diverging_net_does_not_disturb_the_others() -> None:
    (calm, calm_sampler), (wild, wild_sampler) = _trainers()[:2]
    reference, reference_sampler = _trainers()[0]
    wild.config = TrainConfig(lr=1e6, batch=64, schedule="constant", warmup=0)
    for _ in range(8):
        _batched_step([calm, wild], [calm_sampler(40), wild_sampler(64)])
        reference.step(*reference_sampler(40))
    assert torch.allclose(export_weights(calm.model), export_weights(reference.model), atol=1e-5)


@pytest.mark.parametrize(("method", "steps", "warp_s", "activation"),
                         [("euler", 1, 1.0, "gelu"), ("midpoint", 6, 0.6, "silu"), ("rk4", 3, 1.2, "tanh"),
                          ("midpoint", 4, 1.0, "relu")])
def test_a_stacked_solve_equals_each_solve(method: str, steps: int, warp_s: float, activation: str) -> None:
    """The compiled stacked trace (rftoy.engine.stacked_trace) against `solve`, net by net."""
    torch.manual_seed(0)
    models = [VelocityMLP(NetShape(SHAPE.width, SHAPE.depth, activation)) for _ in range(3)]
    gen = data.generator(5)
    starts = [data.sample("gaussian", n, gen) for n in (7, 30, 12)]
    for model, x0, trajectory in zip(models, starts, stacked_solve(models, starts, steps, method, warp_s),
                                     strict=True):
        alone = solve(model, x0, steps, method, warp_s)
        assert trajectory.points.shape == alone.points.shape == (steps + 1, len(x0), 2)
        assert torch.allclose(trajectory.points, alone.points, atol=1e-5)
        assert torch.equal(trajectory.times, alone.times) and trajectory.nfe == alone.nfe

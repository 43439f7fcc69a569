"""Training pieces: time sampling, couplings, the trainer, reflow warm starts and distillation."""

import itertools
from dataclasses import replace

import pytest
import torch
from rftoy.engine import data
from rftoy.engine.flow import (
    TrainConfig,
    Trainer,
    fixed_pair_sampler,
    flow_endpoints,
    online_sampler,
    ot_assignment,
    random_pairing,
    reflow_pool_sampler,
    sample_time,
)
from rftoy.engine.model import NetShape, VelocityMLP, clone_model, export_weights, flat_weights
from rftoy.engine.solvers import solve

SMALL = NetShape(32, 2, "silu")


def test_time_sampling_ranges_and_shapes() -> None:
    gen = data.generator(0)
    for kind in ("uniform", "warp", "logit-normal"):
        t = sample_time(4000, kind, gen, warp_s=0.5)
        assert t.shape == (4000,) and t.min() >= 0 and t.max() <= 1
    logit = sample_time(4000, "logit-normal", gen)
    uniform = sample_time(4000, "uniform", gen)
    assert ((logit - 0.5).abs() < 0.25).float().mean() > ((uniform - 0.5).abs() < 0.25).float().mean() + 0.1
    with pytest.raises(ValueError):
        sample_time(4, "cosine", gen)


def test_ot_assignment_is_optimal_against_brute_force() -> None:
    gen = data.generator(3)
    x0, x1 = torch.randn(6, 2, generator=gen), torch.randn(6, 2, generator=gen)
    best = min(
        float((x0 - x1[list(p)]).square().sum()) for p in itertools.permutations(range(6))
    )
    assert float((x0 - x1[ot_assignment(x0, x1)]).square().sum()) == pytest.approx(best, rel=1e-6)


def test_random_pairing_is_a_permutation() -> None:
    x1 = torch.arange(20.0).view(10, 2)
    _, shuffled = random_pairing(torch.zeros(10, 2), x1, data.generator(0))
    assert sorted(shuffled[:, 0].tolist()) == x1[:, 0].tolist()
    assert not torch.equal(shuffled, x1)


def train_single_pair(steps: int = 400) -> tuple[VelocityMLP, torch.Tensor, torch.Tensor, Trainer]:
    torch.manual_seed(0)
    x0, x1 = torch.tensor([[-1.0, -0.5]]), torch.tensor([[1.5, 1.0]])
    model = VelocityMLP(SMALL)
    trainer = Trainer(model, TrainConfig(lr=1e-2, batch=1, steps=steps, schedule="constant"))
    trainer.train(fixed_pair_sampler(x0, x1, data.generator(0)))
    return model, x0, x1, trainer


def test_one_pair_is_traced_along_its_straight_line() -> None:
    model, x0, x1, _ = train_single_pair()
    traj = solve(model, x0, 20, "rk4")
    expected = x0 + traj.times[:, None, None] * (x1 - x0)
    assert torch.allclose(traj.points, expected, atol=0.03)
    assert torch.allclose(traj.end, x1, atol=0.02)


def test_trainer_converges_and_can_be_told_to_look_again() -> None:
    *_, trainer = train_single_pair(steps=1500)
    assert trainer.converged
    assert trainer.losses[-1] < 1e-3
    trainer.reset_convergence()
    assert not trainer.converged


def test_warm_start_continues_from_given_weights() -> None:
    model, x0, x1, _ = train_single_pair()
    student = clone_model(model)
    assert torch.equal(export_weights(student), export_weights(model))
    fresh = Trainer(VelocityMLP(SMALL), TrainConfig(batch=1))
    warm = Trainer(student, TrainConfig(batch=1))
    assert warm.step(x0, x1) < 0.05 * fresh.step(x0, x1)


def test_cosine_schedule_warms_up_and_decays() -> None:
    trainer = Trainer(VelocityMLP(SMALL), TrainConfig(lr=1e-2, steps=100, warmup=10, final_lr_fraction=0.1))
    rates = []
    for _ in range(100):
        rates.append(trainer.learning_rate())
        trainer.steps_done += 1
    assert rates[0] < rates[9] and max(rates) <= 1e-2
    assert rates[-1] == pytest.approx(1e-3, rel=0.05)


def test_rsqrt_schedule_holds_then_falls_as_one_over_root_steps() -> None:
    trainer = Trainer(VelocityMLP(SMALL), TrainConfig(lr=1e-2, schedule="rsqrt", warmup=1, decay_after=100))
    rates = {}
    for n in (0, 99, 399, 9999):
        trainer.steps_done = n
        rates[n] = trainer.learning_rate()
    assert rates[0] == rates[99] == pytest.approx(1e-2)
    assert rates[399] == pytest.approx(5e-3) and rates[9999] == pytest.approx(1e-3)


def test_batch_doubles_every_growth_period_up_to_the_cap() -> None:
    trainer = Trainer(VelocityMLP(SMALL), TrainConfig(batch=64, batch_growth=10, max_batch=200, steps=40))
    sizes = []
    trainer.train(lambda batch: (sizes.append(batch), (torch.randn(batch, 2), torch.randn(batch, 2)))[1])
    assert sizes[:10] == [64] * 10 and sizes[10:20] == [128] * 10 and sizes[20:] == [200] * 20
    assert Trainer(VelocityMLP(SMALL), TrainConfig(batch=64)).batch_size() == 64


def test_online_samplers_give_fresh_pairs_of_the_asked_kind() -> None:
    gen = data.generator(0)
    independent = online_sampler("gaussian", "circle", "independent", gen)
    a0, a1 = independent(64)
    b0, _ = independent(64)
    assert a0.shape == a1.shape == (64, 2) and not torch.equal(a0, b0)
    assert (a1.norm(dim=1) - 2).abs().max() < 0.5
    ot = online_sampler("gaussian", "circle", "ot", gen, ot_block=32)
    o0, o1 = ot(64)
    assert (o1 - o0).square().sum(1).mean() < (a1 - a0).square().sum(1).mean()
    with pytest.raises(ValueError, match="teacher"):
        online_sampler("gaussian", "circle", "reflow", gen)


def test_reflow_pool_pairs_are_teacher_endpoints_and_refresh() -> None:
    torch.manual_seed(0)
    teacher = VelocityMLP(SMALL)
    draw = reflow_pool_sampler("gaussian", teacher, data.generator(0), teacher_steps=4, pool_batches=2,
                               refresh_every=1)
    x0, z1 = draw(16)
    assert torch.allclose(z1, flow_endpoints(teacher, x0, 4), atol=1e-5)
    seen = {tuple(p) for p in x0.tolist()}
    for _ in range(4):
        x0, _ = draw(16)
    assert {tuple(p) for p in x0.tolist()} - seen


def test_distillation_makes_one_step_land_on_the_teacher_endpoints() -> None:
    torch.manual_seed(0)
    gen = data.generator(0)
    x0 = data.sample("gaussian", 64, gen)
    x1 = data.sample("two-gaussians", 64, gen)
    teacher = VelocityMLP(SMALL)
    Trainer(teacher, TrainConfig(batch=64, steps=400)).train(fixed_pair_sampler(x0, x1, gen))
    z1 = flow_endpoints(teacher, x0)
    student = clone_model(teacher)
    Trainer(student, TrainConfig(lr=3e-3, batch=64, steps=400), distill=True).train(fixed_pair_sampler(x0, z1, gen))
    teacher_one_step = (solve(teacher, x0, 1, "euler").end - z1).norm(dim=1).mean()
    student_one_step = (solve(student, x0, 1, "euler").end - z1).norm(dim=1).mean()
    assert student_one_step < 0.25 * teacher_one_step


def test_a_diverging_net_stops_instead_of_training_forever() -> None:
    torch.manual_seed(0)
    trainer = Trainer(VelocityMLP(SMALL), TrainConfig(lr=1e6, batch=64, steps=300, schedule="constant", warmup=0))
    trainer.train(online_sampler("gaussian", "moons", "independent", data.generator(0)), stop_when_converged=True)
    assert trainer.diverged and trainer.converged
    assert trainer.steps_done < 300


def test_loss_history_is_bounded() -> None:
    *_, trainer = train_single_pair(steps=10)
    for _ in range(1100):
        trainer.losses.append(0.0)
    assert len(trainer.losses) == 1000


def test_a_recipe_change_starts_or_drops_the_weight_average() -> None:
    gen = torch.Generator().manual_seed(0)
    trainer = Trainer(VelocityMLP(NetShape(8, 1)), TrainConfig(lr=1e-2))
    batch = (torch.randn(16, 2, generator=gen), torch.randn(16, 2, generator=gen))
    trainer.step(*batch)
    assert trainer.averaged_model() is trainer.model and trainer.ema_model is None
    trainer.config = replace(trainer.config, ema=0.99)  # a live round switched to online mode
    assert trainer.averaged_model() is trainer.model, "no average until a step starts it"
    trainer.step(*batch)
    assert trainer.averaged_model() is trainer.ema_model
    assert torch.equal(flat_weights(trainer.ema_model), flat_weights(trainer.model)), "it starts from the net"
    trainer.step(*batch)
    assert not torch.equal(flat_weights(trainer.ema_model), flat_weights(trainer.model))
    trainer.config = replace(trainer.config, ema=0.0)  # back to pairs mode: the net itself, at once
    assert trainer.averaged_model() is trainer.model
    trainer.step(*batch)
    assert trainer.ema_model is None

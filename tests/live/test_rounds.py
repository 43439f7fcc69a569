"""The stack of rounds: first rounds from the seed, reflows and distillations taught by the shown round."""

from __future__ import annotations

import pytest
import torch
from live_messages import SETTINGS
from rftoy.engine.model import flat_weights
from rftoy.live.rounds import RoundStack, check_room_for_ot
from rftoy.protocol import Config, ProtocolError

CONFIG = Config(width=8, depth=1)
X0 = torch.zeros(5, 2)


def _stack(config: Config = CONFIG) -> RoundStack:
    return RoundStack(SETTINGS, torch.device("cpu"), config)


def test_first_rounds_start_from_the_seed() -> None:
    plain, ot = _stack(), _stack(Config(width=8, depth=1, coupling="ot"))
    assert [r.name for r in plain.rounds] == ["1-RF"] and plain.selected == 0
    assert [(r.name, r.coupling) for r in ot.rounds] == [("1-RF", "independent"), ("OT", "ot")] and ot.selected == 1
    assert torch.equal(flat_weights(plain.current.model), flat_weights(ot.rounds[0].model))
    assert torch.equal(flat_weights(ot.rounds[0].model), flat_weights(ot.rounds[1].model))
    other_seed = _stack(Config(width=8, depth=1, seed=1))
    assert not torch.equal(flat_weights(plain.current.model), flat_weights(other_seed.current.model))


def test_follow_replaces_the_later_rounds_by_one_the_shown_round_teaches() -> None:
    stack = _stack()
    stack.selected = stack.follow("rf", CONFIG, X0)
    stack.selected = stack.follow("rf", CONFIG, X0)
    assert [r.name for r in stack.rounds] == ["1-RF", "2-RF", "3-RF"] and stack.most == 3
    second = stack.rounds[1]
    assert second.teacher is stack.rounds[0].model and second.teacher_index == 0
    assert second.targets.shape == (5, 2) and second.stale.all()
    assert torch.equal(flat_weights(second.model), flat_weights(stack.rounds[0].model)), "it starts as its teacher"
    stack.selected = 0
    index = stack.follow("distill", CONFIG, X0)
    assert index == 1 and [r.name for r in stack.rounds] == ["1-RF", "distill 1-RF"] and stack.most == 3
    assert stack.rounds[1].kind == "distill" and stack.rounds[1].trainer.distill
    summary = stack.summaries()[1]
    assert list(summary) == ["kind", "name", "step", "loss", "converged", "coupling", "teacher", "index"]
    assert (summary["index"], summary["teacher"], summary["step"], summary["loss"]) == (1, 0, 0, None)


def test_a_distilled_round_teaches_nothing_and_the_stack_has_a_limit() -> None:
    stack = _stack()
    stack.selected = stack.follow("distill", CONFIG, X0)
    with pytest.raises(ProtocolError, match="distilled one-step model") as refused:
        stack.check_can_follow("reflow")
    assert refused.value.code == "state"
    stack.selected = 0
    for _ in range(SETTINGS.max_rounds - 1):
        stack.check_can_follow("reflow")
        stack.selected = stack.follow("rf", CONFIG, X0)
    with pytest.raises(ProtocolError, match=f"at most {SETTINGS.max_rounds} rounds"):
        stack.check_can_follow("reflow")
    with pytest.raises(ProtocolError, match="room for the OT round") as no_room:
        check_room_for_ot(SETTINGS.max_rounds, len(stack.rounds), "set_config")
    assert no_room.value.code == "invalid" and no_room.value.in_reply_to == "set_config"


def test_reset_keep_first_and_root() -> None:
    stack = _stack()
    stack.selected = stack.follow("rf", CONFIG, X0)
    stack.selected = stack.push(stack.fresh(CONFIG, "ot"))
    assert stack.root("ot") == 2 and stack.root("independent") == 0
    stack.selected = 1
    stack.drop_after_selected()
    assert len(stack.rounds) == 2 and stack.root("ot") is None
    stack.keep_first(Config(width=8, depth=1, coupling="ot"))
    assert [r.name for r in stack.rounds] == ["1-RF", "OT"] and stack.selected == 1
    first = stack.rounds[0]
    stack.reset(CONFIG)
    assert len(stack.rounds) == 1 and stack.rounds[0] is not first and stack.selected == 0 and stack.most == 3


def test_restart_goes_back_to_the_initial_weights() -> None:
    stack = _stack()
    first = stack.current
    start = flat_weights(first.model).clone()
    first.trainer.step(torch.randn(8, 2), torch.randn(8, 2))
    stack.selected = stack.follow("rf", CONFIG, X0)
    taught = stack.current
    taught.trainer.step(torch.randn(8, 2), torch.randn(8, 2))
    stack.restart(first, CONFIG)
    stack.restart(taught, CONFIG)
    assert torch.equal(flat_weights(first.model), start) and first.trainer.steps_done == 0
    assert torch.equal(flat_weights(taught.model), flat_weights(taught.teacher)) and taught.trainer.steps_done == 0


def test_online_rounds_sample_fresh_pairs_of_their_coupling_and_keep_their_sampler() -> None:
    stack = _stack(Config(width=8, depth=1, coupling="ot"))
    first, ot = stack.rounds
    for round_ in (first, ot):
        stack.sample_online(round_, "gaussian", "circle")
    sampler = ot.sampler
    stack.sample_online(ot, "gaussian", "circle")
    assert ot.sampler is sampler and ot.sampler_key == ("gaussian", "circle", False), "kept while the presets stay"
    x0, x1 = first.sampler(64)
    assert x0.shape == x1.shape == (64, 2) and not torch.equal(first.sampler(64)[0], x0), "fresh draws each step"
    radius = x1.norm(dim=1)
    assert float(radius.std()) < 0.2 * float(radius.mean()), "the target preset's samples: a circle"
    x0, x1 = ot.sampler(64)
    cost = ((x1 - x0) ** 2).sum(1).mean()
    shuffled = ((x1[torch.randperm(64, generator=torch.Generator().manual_seed(0))] - x0) ** 2).sum(1).mean()
    assert cost < shuffled, "the OT round's minibatch is OT-paired"
    stack.sample_online(ot, "gaussian", "heart")
    assert ot.sampler is not sampler and ot.sampler_key == ("gaussian", "heart", False), "new presets, new sampler"
    stack.selected = 0
    taught = stack.rounds[stack.follow("rf", CONFIG, X0)]
    stack.sample_online(taught, "gaussian", "circle")
    assert taught.sampler_key == ("gaussian", "circle", True)
    x0, z1 = taught.sampler(16)
    assert x0.shape == z1.shape == (16, 2), "reflow pairs: (x0, the teacher's z1)"


def test_online_rounds_show_and_teach_their_weight_average_and_pairs_rounds_their_net() -> None:
    online = Config(width=8, depth=1, mode="online")
    stack = _stack(online)
    first = stack.current
    assert first.trainer.config.ema == SETTINGS.online_ema > 0
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        first.trainer.step(torch.randn(16, 2, generator=gen), torch.randn(16, 2, generator=gen) + 3)
    assert first.shown is first.trainer.ema_model and first.shown is not first.model
    assert not torch.equal(flat_weights(first.shown), flat_weights(first.model)), "the average lags the net"
    stack.selected = stack.follow("rf", online, X0)
    second = stack.current
    assert second.teacher is first.shown
    assert torch.equal(flat_weights(second.model), flat_weights(first.shown)), "it starts as the average it saw"
    pairs = _stack()
    assert pairs.current.trainer.config.ema == 0 and pairs.current.shown is pairs.current.model

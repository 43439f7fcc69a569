"""The work budget: snapshots, training steps and teachers' traces over `max_trace_work` are refused."""

from __future__ import annotations

import pytest
from rftoy.engine.flow import REFLOW_POOL_BATCHES
from rftoy.engine.model import NetShape
from rftoy.live.budget import BACKWARD_PASSES, WorkBudget, trace_work, train_work
from rftoy.protocol import Config, ProtocolError

CONFIG = Config(width=16, depth=2, solver="midpoint", steps=4, batch=32)
WEIGHTS = NetShape(16, 2, "silu").parameter_count()


def test_the_work_of_a_trace_and_of_a_training_step() -> None:
    assert trace_work(10, CONFIG) == 10 * 4 * 2 * WEIGHTS  # midpoint: two net evaluations a step
    assert trace_work(10, CONFIG, evaluations=32) == 10 * 32 * WEIGHTS
    assert train_work(CONFIG) == 32 * BACKWARD_PASSES * WEIGHTS
    assert train_work(CONFIG, teacher_steps=8) == 32 * BACKWARD_PASSES * WEIGHTS + 32 * REFLOW_POOL_BATCHES * 8 * 4 \
        * WEIGHTS


def test_a_snapshot_or_teacher_over_the_limit_is_refused_in_plain_words() -> None:
    budget = WorkBudget(limit=trace_work(10, CONFIG), teacher_steps=8)
    budget.check_trace(10, CONFIG, "hello")
    with pytest.raises(ProtocolError) as refused:
        budget.check_trace(11, CONFIG, "add_pair", seq=7)
    error = refused.value
    assert (error.code, error.in_reply_to, error.seq) == ("invalid", "add_pair", 7)
    assert error.message.startswith("one snapshot would take") and "(11 points)" in error.message
    with pytest.raises(ProtocolError, match="tracing the teacher would take"):
        budget.check_trace(10, CONFIG, "reflow", teacher=True)  # rk4 × 8: 32 evaluations, over midpoint × 4's 8


def test_training_over_the_limit_is_refused_and_online_teachers_count_their_pool() -> None:
    budget = WorkBudget(limit=train_work(CONFIG), teacher_steps=8)
    budget.check_training(CONFIG, "hello", teacher=False)
    budget.check_training(CONFIG, "reflow", teacher=True)  # in pairs mode the teacher traces only the scene
    with pytest.raises(ProtocolError, match="one training step would take"):
        budget.check_training(CONFIG.model_copy(update={"batch": 33}), "set_config", teacher=False)
    with pytest.raises(ProtocolError, match="filling the online reflow pool"):
        budget.check_training(CONFIG.model_copy(update={"mode": "online"}), "set_config", teacher=True)

"""The edit queue: edits checked on arrival against the scene they will apply to, applied later in order."""

from __future__ import annotations

import pytest
import torch
from live_messages import SETTINGS, message, move
from rftoy.live.edits import EditQueue
from rftoy.live.rounds import RoundStack
from rftoy.protocol import Config, ProtocolError


def _scene(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    x0 = torch.arange(2 * n, dtype=torch.float32).reshape(n, 2)
    return x0, -x0


def _never_too_costly(n: int) -> None:
    pass


def test_moves_adds_and_removes_apply_in_order_and_the_inputs_stay() -> None:
    x0, x1 = _scene(4)
    queue = EditQueue(4, max_ops=8)
    queue.move(move(1, ("x0", 3, 9.0, 9.0), ("x1", 0, 5.0, 5.0)))
    queue.move(move(2, ("x0", 3, 7.0, 7.0)))  # the same point again: the newest position wins
    queue.add(message(type="add_pair", seq=3, x0=[0.5, 0.5], x1=[1.5, 1.5], index=1), 64, _never_too_costly)
    queue.remove(message(type="remove_pair", seq=4, index=4))  # the moved pair, now at 4 after the insert
    queue.move(move(5, ("x1", 3, 2.0, 2.0)))  # a new run of moves, on the indices after the remove
    assert len(queue.ops) == 4 and queue.n == 4 and queue.seq == 5
    new_x0, new_x1 = queue.apply(x0, x1, [])
    assert new_x0.tolist() == [[0.0, 1.0], [0.5, 0.5], [2.0, 3.0], [4.0, 5.0]]
    assert new_x1.tolist() == [[5.0, 5.0], [1.5, 1.5], [-2.0, -3.0], [2.0, 2.0]]
    assert x0.tolist() == _scene(4)[0].tolist(), "the scene's tensors are left as they were"
    assert queue.ops == [] and queue.seq == 5


def test_an_out_of_range_move_is_refused_after_a_remove() -> None:
    queue = EditQueue(3, max_ops=8)
    queue.remove(message(type="remove_pair", seq=1, index=0))
    with pytest.raises(ProtocolError) as refused:
        queue.move(move(2, ("x0", 2, 0.0, 0.0)))
    assert (refused.value.code, refused.value.seq) == ("invalid", 2) and "scene has 2 pairs" in refused.value.message
    assert queue.seq == 1 and len(queue.ops) == 1


def test_a_full_queue_refuses_and_changes_nothing() -> None:
    queue = EditQueue(10, max_ops=SETTINGS.max_pending_ops)
    queue.move(move(1, ("x0", 0, 1.0, 1.0)))
    queue.remove(message(type="remove_pair", seq=2, index=0))
    queue.move(move(3, ("x0", 0, 2.0, 2.0)))
    for refused_message in (message(type="remove_pair", seq=4, index=0),
                            message(type="add_pair", seq=4, x0=[0, 0], x1=[1, 1])):
        with pytest.raises(ProtocolError) as refused:
            if refused_message.type == "remove_pair":
                queue.remove(refused_message)
            else:
                queue.add(refused_message, 64, _never_too_costly)
        assert refused.value.code == "state" and "wait for a snapshot" in refused.value.message
    queue.move(move(5, ("x0", 1, 3.0, 3.0)))  # a move joins the open run of moves: no room needed
    assert len(queue.ops) == 3 and queue.n == 9 and queue.seq == 5


def test_adds_are_refused_at_the_point_limit_out_of_range_or_too_costly() -> None:
    queue = EditQueue(2, max_ops=8)
    with pytest.raises(ProtocolError, match="maximum of 2 pairs"):
        queue.add(message(type="add_pair", seq=1, x0=[0, 0], x1=[1, 1]), 2, _never_too_costly)
    with pytest.raises(ProtocolError, match=r"goes in at 0 … 2"):
        queue.add(message(type="add_pair", seq=1, x0=[0, 0], x1=[1, 1], index=3), 64, _never_too_costly)

    def too_costly(n: int) -> None:
        raise ProtocolError("invalid", f"{n} pairs cost too much")

    with pytest.raises(ProtocolError, match="3 pairs cost too much"):
        queue.add(message(type="add_pair", seq=1, x0=[0, 0], x1=[1, 1]), 64, too_costly)
    with pytest.raises(ProtocolError, match="last pair"):
        EditQueue(1, max_ops=8).remove(message(type="remove_pair", seq=1, index=0))
    assert queue.ops == [] and queue.n == 2 and queue.seq is None


def test_teacher_targets_follow_the_pairs_and_edited_ones_go_stale() -> None:
    x0, x1 = _scene(3)
    stack = RoundStack(SETTINGS, torch.device("cpu"), Config(width=8, depth=1))
    taught = stack.rounds[stack.follow("rf", Config(width=8, depth=1), x0)]
    taught.targets = torch.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    taught.stale = torch.zeros(3, dtype=torch.bool)
    queue = EditQueue(3, max_ops=8)
    queue.move(move(1, ("x0", 2, 0.0, 0.0), ("x1", 0, 0.0, 0.0)))  # only a moved x0 changes the teacher's z1
    queue.add(message(type="add_pair", seq=2, x0=[5, 5], x1=[6, 6], index=0), 64, _never_too_costly)
    queue.remove(message(type="remove_pair", seq=3, index=1))
    queue.apply(x0, x1, stack.rounds)
    assert taught.targets.tolist() == [[0.0, 0.0], [2.0, 2.0], [3.0, 3.0]]
    assert taught.stale.tolist() == [True, False, True]
    assert stack.rounds[0].targets is None, "round 0 learns the scene's own pairs"


def test_an_ot_round_goes_stale_whole_on_any_edit() -> None:
    x0, x1 = _scene(3)
    stack = RoundStack(SETTINGS, torch.device("cpu"), Config(width=8, depth=1, coupling="ot"))
    ot = stack.current
    ot.targets, ot.stale = x1.clone(), torch.zeros(3, dtype=torch.bool)
    queue = EditQueue(3, max_ops=8)
    queue.move(move(1, ("x1", 0, 0.0, 0.0)))
    queue.apply(x0, x1, stack.rounds)
    assert ot.coupling == "ot" and ot.stale.all()

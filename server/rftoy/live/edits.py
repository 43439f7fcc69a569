"""The edit queue: a session's edits, checked the moment they arrive and applied to the scene later, at once.

Edits never wait for training: each is checked against the scene as it will be once the edits before it are
applied (`n`, its pair count then), and parked. Moves are coalesced per point within a run; an add or remove
ends the run (it shifts the indices after it). At the next chunk boundary `apply` makes the new scene tensors
and keeps every round's teacher targets in step.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from rftoy.live.rounds import Round
from rftoy.protocol import AddPair, Edit, ProtocolError, RemovePair

Moves = dict[tuple[str, int], tuple[float, float]]  # (cloud, index) → the point's newest position


class EditQueue:
    """Edits received but not applied: runs of coalesced moves, and adds and removes, in order. `n` is the pair
    count once they are applied, `seq` the highest edit seq received (applied or not); at most `max_ops` runs and
    adds/removes wait at once."""

    def __init__(self, n: int, max_ops: int, seq: int | None = None) -> None:
        self.n = n
        self.max_ops = max_ops
        self.seq = seq
        self.ops: list[Moves | AddPair | RemovePair] = []

    def move(self, message: Edit) -> None:
        for i, move in enumerate(message.moves):
            if move.index >= self.n:
                raise ProtocolError("invalid", f"edit.moves.{i}.index: {move.index} is out of range; the scene has "
                                    f"{self.n} pairs", "edit", message.seq)
        if not self.ops or not isinstance(self.ops[-1], dict):
            self._check_room(message)
            self.ops.append({})
        run = self.ops[-1]
        for move in message.moves:
            run[(move.cloud, move.index)] = (move.x, move.y)
        self._received(message.seq)

    def add(self, message: AddPair, max_points: int, afford: Callable[[int], None]) -> None:
        """Queue an added pair; `afford(n)` refuses a scene of n pairs that would cost too much."""
        if self.n >= max_points:
            raise ProtocolError("invalid", f"the scene already has the maximum of {max_points} pairs", "add_pair",
                                message.seq)
        if message.index is not None and message.index > self.n:
            raise ProtocolError("invalid", f"add_pair.index: {message.index} is out of range; the scene has {self.n} "
                                f"pairs, so a pair goes in at 0 … {self.n}", "add_pair", message.seq)
        afford(self.n + 1)
        self._check_room(message)
        self.ops.append(message)
        self.n += 1
        self._received(message.seq)

    def remove(self, message: RemovePair) -> None:
        if message.index >= self.n:
            raise ProtocolError("invalid", f"remove_pair.index: {message.index} is out of range; the scene has "
                                f"{self.n} pairs", "remove_pair", message.seq)
        if self.n == 1:
            raise ProtocolError("invalid", "the last pair cannot be removed", "remove_pair", message.seq)
        self._check_room(message)
        self.ops.append(message)
        self.n -= 1
        self._received(message.seq)

    def drop(self, n: int) -> None:
        """Forget the unapplied edits (a new scene of n pairs replaced the one they were for)."""
        self.ops = []
        self.n = n

    def apply(self, x0: torch.Tensor, x1: torch.Tensor, rounds: list[Round]) -> tuple[torch.Tensor, torch.Tensor]:
        """The scene (x0, x1) with the queued edits applied, in order, and the queue emptied. The inputs are left
        as they are; each round's teacher targets follow the scene's pairs, those an edit touched marked stale."""
        # numpy copies and writes: a tensor op would let go of the GIL and wait to get it back from the trainers
        x0, x1 = torch.from_numpy(x0.numpy().copy()), torch.from_numpy(x1.numpy().copy())
        taught = [r for r in rounds if r.targets is not None]
        for op in self.ops:
            if isinstance(op, dict):
                clouds = {"x0": x0.numpy(), "x1": x1.numpy()}
                for (cloud, index), point in op.items():
                    clouds[cloud][index] = point
                moved = [index for cloud, index in op if cloud == "x0"]
                for r in taught:
                    r.stale[moved] = True
            elif isinstance(op, AddPair):
                at = len(x0) if op.index is None else op.index
                x0 = _insert(x0, at, torch.tensor([op.x0]))
                x1 = _insert(x1, at, torch.tensor([op.x1]))
                for r in taught:
                    r.targets = _insert(r.targets, at, torch.zeros(1, 2))
                    r.stale = _insert(r.stale, at, torch.ones(1, dtype=torch.bool))
            else:
                keep = torch.arange(len(x0)) != op.index
                x0, x1 = x0[keep], x1[keep]
                for r in taught:
                    r.targets, r.stale = r.targets[keep], r.stale[keep]
        for r in taught:
            if r.teacher is None:  # an OT round: any change may change the whole assignment
                r.stale[:] = True
        self.ops = []
        return x0, x1

    def _check_room(self, message: Edit | AddPair | RemovePair) -> None:
        if len(self.ops) >= self.max_ops:
            raise ProtocolError("state", f"more than {self.max_ops} unapplied add/remove edits; wait for a snapshot",
                                message.type, message.seq)

    def _received(self, seq: int) -> None:
        self.seq = seq if self.seq is None else max(self.seq, seq)


def _insert(rows: torch.Tensor, at: int, new: torch.Tensor) -> torch.Tensor:
    return torch.cat([rows[:at], new, rows[at:]])

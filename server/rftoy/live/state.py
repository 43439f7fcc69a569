"""What a live session shows and trains, and the client commands that change it.

The state holds the scene (its pairs and presets), the config, the stack of rounds, the queued edits, and whether
the shown round trains (`paused`, `holding`). Each command is checked in full before it changes anything: a
ProtocolError leaves the state as it was. The session calls these with its lock held (edits excepted: they only
queue); the client hears of changes the server made itself (a round's coupling, pairs mode) through `send`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import torch

from rftoy.live.budget import WorkBudget
from rftoy.live.edits import EditQueue
from rftoy.live.rounds import RoundKind, RoundStack, check_room_for_ot, train_config
from rftoy.live.scene import materialize
from rftoy.protocol import (
    NET_FIELDS,
    TRAIN_FIELDS,
    AddPair,
    Config,
    Edit,
    PointsScene,
    PresetScene,
    ProtocolError,
    RemovePair,
    SelectRound,
    SetConfig,
    SetScene,
)
from rftoy.protocol.server import RunState, SessionMessage, config_message, scene_message
from rftoy.settings import Settings
from rftoy.vocab import Coupling


class SessionState:
    """A session's `scene` (its pairs `x0`, `x1` as edited, its presets and their placement), `config`,
    `rounds` (a RoundStack) and edit `queue`. `snapshot_due`: a change the client has not seen yet; `edited` is set
    while edits wait (a running chunk stops early for them); `applied_seq` is the last edit seq the scene includes."""

    def __init__(self, settings: Settings, device: torch.device, scene: PresetScene | PointsScene, config: Config,
                 send: Callable[[SessionMessage], None]) -> None:
        self.settings = settings
        self._send = send
        self.budget = WorkBudget(limit=settings.max_trace_work, teacher_steps=settings.teacher_steps)
        self.scene = materialize(scene)
        self.budget.check_trace(len(self.x0), config, "hello")
        self.budget.check_training(config, "hello", teacher=False)
        self.config = config
        self._fall_back_to_pairs()
        if config.coupling == "ot":
            check_room_for_ot(settings.max_rounds, 1, "hello")
        self.rounds = RoundStack(settings, device, self.config)
        self.queue = EditQueue(len(self.x0), settings.max_pending_ops)
        self.edited = threading.Event()
        self.applied_seq: int | None = None
        self.paused = False
        self.holding = False
        self.snapshot_due = True

    def scene_body(self) -> dict[str, Any]:
        """The scene as explicit points, as the client gets it."""
        return self.scene.as_points()

    @property
    def x0(self) -> torch.Tensor:
        return self.scene.x0

    @property
    def x1(self) -> torch.Tensor:
        return self.scene.x1

    def wants_training(self) -> bool:
        return not self.paused and not self.holding and not self.rounds.current.trainer.converged

    @property
    def run_state(self) -> RunState:
        if self.paused:
            return "paused"
        return "training" if self.wants_training() else "idle"

    # Edits: checked and queued at once, applied at the next chunk boundary.

    def queue_edit(self, message: Edit | AddPair | RemovePair) -> None:
        if isinstance(message, Edit):
            self.queue.move(message)
        elif isinstance(message, AddPair):
            self.queue.add(message, self.settings.max_points, lambda n: self._afford_points(n, message.seq))
        else:
            self.queue.remove(message)
        self.edited.set()

    def _afford_points(self, n: int, seq: int) -> None:
        """Refuse an added pair whose scene of n pairs (and teacher's trace of it) would cost too much."""
        self.budget.check_trace(n, self.config, "add_pair", seq=seq)
        if self.rounds.current.teacher is not None:
            self.budget.check_trace(n, self.config, "add_pair", teacher=True, seq=seq)

    def apply_edits(self) -> bool:
        """Apply the queued edits to the scene (and to the teacher targets of every round); True if any."""
        if not self.queue.ops:
            return False
        x0, x1 = self.queue.apply(self.x0, self.x1, self.rounds.rounds)
        self.scene = self.scene._replace(x0=x0, x1=x1)
        self.applied_seq = self.queue.seq
        self.edited.clear()
        return True

    # Commands.

    def set_scene(self, message: SetScene) -> None:
        scene = materialize(message.scene)
        self.budget.check_trace(len(scene.x0), self.config, "set_scene")
        self.scene = scene
        self.applied_seq = self.queue.seq  # unapplied edits are dropped with the old scene: reported as applied
        self.queue.drop(len(scene.x0))
        self.edited.clear()
        if self._fall_back_to_pairs():
            self._send(config_message(self.config))
        self.rounds.keep_first(self.config)
        self._select(self.rounds.selected)
        self.retrain()
        self._send(scene_message(self.scene_body()))

    def set_config(self, message: SetConfig) -> None:
        changes = {name: value for name, value in message.config.changes().items()
                   if getattr(self.config, name) != value}
        if changes.get("mode") == "online" and not self._has_presets():
            raise ProtocolError("invalid", "online mode samples fresh pairs from the scene's source and target "
                                "presets, and this scene has none; stay in pairs mode or set a preset scene",
                                "set_config")
        config = self.config.model_copy(update=changes)
        new_net = bool(NET_FIELDS & changes.keys())
        if changes.get("coupling") == "ot" and not new_net and self.rounds.root("ot") is None:
            check_room_for_ot(self.settings.max_rounds, len(self.rounds.rounds), "set_config")
        self.budget.check_trace(len(self.x0), config, "set_config")
        self.budget.check_training(config, "set_config", self.rounds.current.teacher is not None and not new_net)
        self.config = config
        if new_net:
            self.reset()
        elif TRAIN_FIELDS & changes.keys():
            self.retrain()
        if "coupling" in changes:
            self._use_coupling(config.coupling)
        self.snapshot_due = True
        self._send(config_message(self.config))

    def new_round(self, kind: RoundKind, verb: str) -> None:
        """Reflow or distill (`verb`) the shown round into a new one, and show it."""
        self.rounds.check_can_follow(verb)
        self.budget.check_trace(len(self.x0), self.config, verb, teacher=True)
        self.budget.check_training(self.config, verb, teacher=True)
        self._select(self.rounds.follow(kind, self.config, self.x0))
        self.retrain()

    def select_round(self, message: SelectRound) -> None:
        count = len(self.rounds.rounds)
        if message.round >= count:
            raise ProtocolError("invalid", f"select_round.round: there is no round {message.round}; the session has "
                                f"{count}", "select_round")
        if message.round != self.rounds.selected:
            self._select(message.round)
            self.holding = True

    def pause(self) -> None:
        self.paused = True
        self.snapshot_due = True

    def resume(self) -> None:
        self.paused = False
        self.retrain()

    def reset(self) -> None:
        """Start over from the seed's initial weights: 1-RF, and the OT round too when the coupling is OT."""
        self.rounds.reset(self.config)
        self._select(self.rounds.selected)
        self.holding = False

    def retrain(self) -> None:
        """The selected round trains again (after a change to its data, settings or a resume)."""
        self.holding = False
        round_ = self.rounds.current
        round_.trainer.reset_convergence()
        round_.trainer.config = train_config(self.config, self.settings, round_.kind)

    def hold(self) -> None:
        """Stop training until the next change (a round restarted after diverging), and show it."""
        self.holding = True
        self.snapshot_due = True

    def _has_presets(self) -> bool:
        return self.scene.sampled_names() is not None

    def _fall_back_to_pairs(self) -> bool:
        """Online mode needs the scene's presets: without them, switch to pairs mode; True if it switched."""
        if self.config.mode != "online" or self._has_presets():
            return False
        self.config = self.config.model_copy(update={"mode": "pairs"})
        return True

    def _select(self, index: int) -> None:
        """Show round `index`; the config's coupling follows the round's (its chain's first round's), and the
        client hears of a change."""
        self.rounds.selected = index
        self.snapshot_due = True
        coupling = self.rounds.current.coupling
        if self.config.coupling != coupling:
            self.config = self.config.model_copy(update={"coupling": coupling})
            self._send(config_message(self.config))

    def _use_coupling(self, coupling: Coupling) -> None:
        """The pairing control: show the first round of that coupling (1-RF, or the OT round, made on first use)."""
        root = self.rounds.root(coupling)
        if root is None:
            self._select(self.rounds.push(self.rounds.fresh(self.config, "ot")))
            self.retrain()
        elif root != self.rounds.selected:
            self._select(root)
            self.holding = self.rounds.current.trainer.steps_done > 0

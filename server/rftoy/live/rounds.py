"""A session's rounds: each one a flow and its trainer, and the stack of them the user reflows, distills and picks.

Round 0 learns the scene's pairs (1-RF); with the OT coupling an OT round, a fresh net on the optimal-transport
re-pairing of the same points, comes next. Each later round learns (x0, its teacher's z1): a reflow (`n-RF`) or a
one-step distillation. The stack holds them and which one is shown; the session decides when they change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from rftoy.engine import data
from rftoy.engine.flow import PairSampler, TrainConfig, Trainer, distill_config, online_sampler
from rftoy.engine.model import NetShape, VelocityMLP, clone_model, seeded
from rftoy.protocol import Config, ProtocolError
from rftoy.protocol.server import RoundKind, RoundSummary, round_summary
from rftoy.settings import Settings
from rftoy.vocab import Coupling


@dataclass(kw_only=True)
class Round:
    """One trained flow: round 0 learns the scene's pairs, later rounds learn (x0, teacher's z1).

    `gen` draws online samples (on the CPU, where the presets are made); `pair_gen` picks minibatches of the
    fixed pairs on the training device. `targets` are the teacher's endpoints of the scene's x0 (an OT round: its
    re-paired x1), `stale` marks those an edit made out of date.
    """

    kind: RoundKind
    name: str
    model: VelocityMLP
    trainer: Trainer
    gen: torch.Generator
    pair_gen: torch.Generator
    teacher: VelocityMLP | None = None
    targets: torch.Tensor | None = None
    stale: torch.Tensor | None = None
    sampler: PairSampler | None = None
    sampler_key: tuple[Any, ...] | None = None
    coupling: Coupling = "independent"
    generation: int = 1
    teacher_index: int | None = None

    @property
    def shown(self) -> VelocityMLP:
        """The net the page is shown and later rounds learn from: the weight average in online mode, else the net."""
        return self.trainer.averaged_model()

    def summary(self, index: int) -> RoundSummary:
        t = self.trainer
        return round_summary(index=index, kind=self.kind, name=self.name, step=t.steps_done,
                             loss=t.losses[-1] if t.losses else None, converged=t.converged, coupling=self.coupling,
                             teacher=self.teacher_index)


def train_config(config: Config, settings: Settings, kind: RoundKind = "rf") -> TrainConfig:
    """The live training recipe of a round of `kind` under the session's config: a constant rate, and in online
    mode a weight average (in pairs mode a drag must show at once)."""
    recipe = TrainConfig(lr=config.lr, batch=config.batch, time_sampling=config.time_sampling, warp_s=config.warp_s,
                         schedule="constant", converge_window=settings.converge_window,
                         converge_tol=settings.converge_tol, seed=config.seed,
                         ema=settings.online_ema if config.mode == "online" else 0.0)
    return distill_config(recipe) if kind == "distill" else recipe


def check_room_for_ot(max_rounds: int, rounds: int, in_reply_to: str) -> None:
    """Refuse an OT round that would make more than `max_rounds` rounds (there are `rounds`)."""
    if rounds >= max_rounds:
        raise ProtocolError("invalid", f"a session holds at most {max_rounds} rounds; select an earlier round and "
                            "reflow from there, or reset, to make room for the OT round", in_reply_to)


class RoundStack:
    """The rounds of one session, and the one shown (`selected`); `most` counts the most it held (for logs)."""

    def __init__(self, settings: Settings, device: torch.device, config: Config) -> None:
        self.settings = settings
        self.device = device
        self.rounds: list[Round] = []
        self.selected = 0
        self.most = 1
        self.reset(config)

    @property
    def current(self) -> Round:
        return self.rounds[self.selected]

    def summaries(self) -> list[RoundSummary]:
        return [r.summary(i) for i, r in enumerate(self.rounds)]

    def reset(self, config: Config) -> None:
        """Start over from the seed's initial weights: 1-RF, and the OT round too when the coupling is OT (shown)."""
        self.rounds = [self.fresh(config)]
        self.keep_first(config)

    def keep_first(self, config: Config) -> None:
        """Keep only round 0 (and a fresh OT round when the coupling is OT) and show the last of them."""
        del self.rounds[1:]
        if config.coupling == "ot":
            self.rounds.append(self.fresh(config, "ot"))
        self.selected = len(self.rounds) - 1

    def fresh(self, config: Config, coupling: Coupling = "independent") -> Round:
        """A first round from the seed's initial weights: 1-RF on the scene's pairs, or OT on their OT re-pairing."""
        shape = NetShape(config.width, config.depth, config.activation)
        model = seeded(lambda: VelocityMLP(shape), data.generator(config.seed))
        model = model.to(self.device)
        return Round(kind="rf", name="OT" if coupling == "ot" else "1-RF", model=model,
                     trainer=Trainer(model, train_config(config, self.settings)), gen=data.generator(config.seed),
                     pair_gen=data.generator(config.seed, self.device), coupling=coupling)

    def push(self, round_: Round) -> int:
        """Append a round; its index."""
        self.rounds.append(round_)
        self.most = max(self.most, len(self.rounds))
        return len(self.rounds) - 1

    def drop_after_selected(self) -> None:
        """Forget the rounds after the one shown (it changed: they learned from an older version of it)."""
        del self.rounds[self.selected + 1:]

    def root(self, coupling: Coupling) -> int | None:
        """The first round of that coupling (1-RF, or the OT round), if there is one."""
        return next((i for i, r in enumerate(self.rounds) if r.coupling == coupling and r.teacher is None), None)

    def check_can_follow(self, verb: str) -> None:
        """Can the shown round teach a next one (`verb`: reflow or distill)?"""
        if self.current.kind == "distill":
            raise ProtocolError("state", f"cannot {verb} from a distilled one-step model; select an RF round first",
                                verb)
        if self.selected + 1 >= self.settings.max_rounds:
            raise ProtocolError("state", f"a session holds at most {self.settings.max_rounds} rounds", verb)

    def follow(self, kind: RoundKind, config: Config, x0: torch.Tensor) -> int:
        """Replace the rounds after the shown one by a new round of `kind` taught by it (on the scene's noise points
        `x0`); the new round's index."""
        teacher, teacher_index = self.current, self.selected
        self.drop_after_selected()
        model = clone_model(teacher.shown)
        recipe = train_config(config, self.settings)
        generation = teacher.generation + 1
        if kind == "distill":
            trainer, name = Trainer(model, distill_config(recipe), distill=True), f"distill {teacher.name}"
        else:
            prefix = "OT " if teacher.coupling == "ot" else ""
            trainer, name = Trainer(model, recipe), f"{prefix}{generation}-RF"
        seed = config.seed + len(self.rounds)
        return self.push(Round(kind=kind, name=name, model=model, trainer=trainer, gen=data.generator(seed),
                               pair_gen=data.generator(seed, self.device), teacher=teacher.shown,
                               targets=torch.zeros_like(x0), stale=torch.ones(len(x0), dtype=torch.bool),
                               coupling=teacher.coupling, generation=generation, teacher_index=teacher_index))

    def sample_online(self, round_: Round, source: str, target: str) -> None:
        """Give the round a sampler of fresh pairs for the scene's presets (kept while they and its teacher stay)."""
        key = (source, target, round_.teacher is not None)
        if round_.sampler_key != key:
            coupling = "reflow" if round_.teacher is not None else round_.coupling
            round_.sampler = online_sampler(source, target, coupling, round_.gen, self.device, round_.teacher,
                                            self.settings.teacher_steps, self.settings.online_ot_block)
            round_.sampler_key = key

    def restart(self, round_: Round, config: Config) -> None:
        """Start a round over from its initial weights: the seed's (a first round) or its teacher's."""
        if round_.teacher is None:
            fresh = self.fresh(config)
            round_.model, round_.trainer = fresh.model, fresh.trainer
        else:
            round_.model = clone_model(round_.teacher)
            round_.trainer = Trainer(round_.model, train_config(config, self.settings, round_.kind),
                                     distill=round_.kind == "distill")

"""The session's state and its commands: each is checked in full before it changes anything."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from live_messages import SETTINGS, SMALL, message, move
from rftoy.live.state import SessionState
from rftoy.protocol import Config, ProtocolError, validate_scene
from rftoy.settings import Settings

SCENE = {"kind": "preset", "source": "gaussian", "target": "moons", "n": 6, "seed": 3}


def _state(scene: dict[str, Any] = SCENE, settings: Settings = SETTINGS,
           **config: Any) -> tuple[SessionState, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []
    return SessionState(settings, torch.device("cpu"), validate_scene(scene, settings),
                        Config(**{**SMALL, **config}), sent.append), sent


def test_a_new_net_starts_over_and_a_new_recipe_retrains() -> None:
    state, sent = _state()
    state.rounds.selected = state.rounds.follow("rf", state.config, state.x0)
    state.holding = True
    state.set_config(message(type="set_config", config={"lr": 0.01}))
    assert len(state.rounds.rounds) == 2 and not state.holding
    assert state.rounds.current.trainer.config.lr == 0.01
    state.set_config(message(type="set_config", config={"width": 4}))
    assert len(state.rounds.rounds) == 1 and state.rounds.current.model.shape.width == 4
    assert [m["type"] for m in sent] == ["config", "config"] and sent[-1]["config"]["width"] == 4
    assert state.snapshot_due


def test_the_ot_coupling_adds_its_round_and_independent_goes_back_to_1rf() -> None:
    state, sent = _state()
    state.rounds.current.trainer.steps_done = 10
    state.set_config(message(type="set_config", config={"coupling": "ot"}))
    assert [r.name for r in state.rounds.rounds] == ["1-RF", "OT"] and state.rounds.selected == 1
    state.set_config(message(type="set_config", config={"coupling": "independent"}))
    assert state.rounds.selected == 0 and state.holding, "a trained round is shown as it is"
    assert state.config.coupling == "independent" and [m["config"]["coupling"] for m in sent] == ["ot",
                                                                                                 "independent"]


def test_refused_commands_change_nothing() -> None:
    settings = SETTINGS.model_copy(update={"max_trace_work": 1e4})
    state, sent = _state({"kind": "points", "x0": [[0, 0], [1, 1]], "x1": [[2, 2], [3, 3]]}, settings)
    config, rounds = state.config, list(state.rounds.rounds)
    with pytest.raises(ProtocolError, match="this scene has none"):
        state.set_config(message(type="set_config", config={"mode": "online", "width": 4}))
    with pytest.raises(ProtocolError, match="there is no round 3") as refused:
        state.select_round(message(type="select_round", round=3))
    assert refused.value.code == "invalid"
    with pytest.raises(ProtocolError, match="one snapshot would take"):
        state.set_config(message(type="set_config", config={"steps": 200, "solver": "rk4"}))
    assert state.config is config and state.rounds.rounds == rounds and sent == []


def test_edits_wait_for_apply_and_a_new_scene_drops_them_as_applied() -> None:
    state, sent = _state()
    before = state.x0.clone()
    state.queue_edit(move(4, ("x0", 0, 1.0, 2.0)))
    assert state.edited.is_set() and torch.equal(state.x0, before) and state.applied_seq is None
    assert state.apply_edits() and state.x0[0].tolist() == [1.0, 2.0] and state.applied_seq == 4
    assert not state.edited.is_set() and not state.apply_edits()
    state.queue_edit(message(type="remove_pair", seq=9, index=0))
    state.set_scene(message(type="set_scene", scene={"kind": "preset", "n": 3}))
    assert len(state.x0) == 3 and state.applied_seq == 9 and not state.edited.is_set()
    assert state.queue.ops == [] and state.queue.n == 3
    assert sent[-1]["type"] == "scene" and len(sent[-1]["scene"]["x0"]) == 3


def test_a_points_scene_falls_back_to_pairs_mode_and_says_so() -> None:
    state, sent = _state(mode="online")
    assert state.config.mode == "online"
    state.set_scene(message(type="set_scene", scene={"kind": "points", "x0": [[0, 0]], "x1": [[1, 1]]}))
    assert state.config.mode == "pairs" and [m["type"] for m in sent] == ["config", "scene"]


def test_an_apart_scene_draws_source_left_and_target_right_and_keeps_its_placement() -> None:
    state, sent = _state({**SCENE, "n": 40, "placement": "apart"}, mode="online")
    assert state.x0[:, 0].mean() < -1.5 and state.x1[:, 0].mean() > 1.5
    assert state.scene.sampled_names() == ("gaussian@left", "moons@right")
    assert state.scene_body()["placement"] == "apart"
    state.set_scene(message(type="set_scene", scene=state.scene_body()))  # as the page sends an edited scene
    assert state.scene.sampled_names() == ("gaussian@left", "moons@right") and state.config.mode == "online"
    with pytest.raises(ProtocolError) as refused:
        message(type="set_scene", scene={**SCENE, "placement": "sideways"})
    assert "placement" in refused.value.message and "apart" in refused.value.message, refused.value.message
    state.set_scene(message(type="set_scene", scene={**SCENE, "placement": "overlaid"}))
    assert abs(float(state.x1[:, 0].mean())) < 1.0 and state.scene.sampled_names() == ("gaussian", "moons")
    assert sent[-1]["scene"]["placement"] == "overlaid"


def test_pause_resume_and_the_run_state() -> None:
    state, _ = _state()
    assert state.run_state == "training"
    state.pause()
    assert state.run_state == "paused" and state.snapshot_due
    state.resume()
    assert state.run_state == "training"
    state.hold()
    assert state.run_state == "idle"
    state.rounds.current.trainer.converged = True
    state.resume()
    assert state.run_state == "training", "resume trains the round again"

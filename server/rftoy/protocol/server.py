"""Server → client messages, built here so that their shape is written down in one place (docs/protocol.md, §3).

Each message is a TypedDict (plain JSON data) made by its builder; the live layer builds every message it sends
through these, and the keys come out in the order the documentation shows them. A snapshot's metadata is built
in three steps, as its parts become known: the session picks the round and solver (`snapshot_head`), the chunk
adds what its trace found (`traced_snapshot`), the session numbers it and lists the rounds (`snapshot_message`).
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from rftoy.protocol.bounds import setting_bounds
from rftoy.protocol.config import Config
from rftoy.protocol.wire import PROTOCOL_VERSION, ProtocolError
from rftoy.settings import Settings
from rftoy.vocab import Activation, Coupling, Method

RoundKind = Literal["rf", "distill"]
RunState = Literal["training", "idle", "paused"]  # a snapshot's `state`


class ErrorMessage(TypedDict):
    type: Literal["error"]
    code: str
    message: str
    in_reply_to: str | None
    seq: int | None


def error_message(error: ProtocolError) -> ErrorMessage:
    return {"type": "error", "code": error.code, "message": error.message, "in_reply_to": error.in_reply_to,
            "seq": error.seq}


def limits_of(settings: Settings) -> dict[str, Any]:
    """`ready.limits`: the settings marked public, and the bounds of every number a person sets."""
    return {**settings.public_limits(), "bounds": setting_bounds(settings, Config.model_fields)}


class ReadyMessage(TypedDict):
    """The reply to hello: what the page needs to start (docs/protocol.md, 'ready')."""

    type: Literal["ready"]
    protocol: int
    session_id: str
    limits: dict[str, Any]
    presets: list[str]
    defaults: dict[str, Any]
    scene: dict[str, Any]
    config: dict[str, Any]


def ready_message(*, session_id: str, limits: dict[str, Any], presets: list[str], defaults: dict[str, Any],
                  scene: dict[str, Any], config: Config) -> ReadyMessage:
    """`limits`: `limits_of(settings)`; `defaults`: `rftoy.protocol.defaults()`; `scene`: the session's, as points."""
    return {"type": "ready", "protocol": PROTOCOL_VERSION, "session_id": session_id, "limits": limits,
            "presets": presets, "defaults": defaults, "scene": scene, "config": config.model_dump()}


class PongMessage(TypedDict):
    type: Literal["pong"]
    nonce: str | int | None
    time: float


def pong_message(nonce: str | int | None, time: float) -> PongMessage:
    """The reply to ping: its nonce, and the server's clock (seconds since the epoch)."""
    return {"type": "pong", "nonce": nonce, "time": time}


class ConfigMessage(TypedDict):
    type: Literal["config"]
    config: dict[str, Any]


def config_message(config: Config) -> ConfigMessage:
    """The whole config, after a change (set_config, or one the server made: a round's coupling, pairs mode)."""
    return {"type": "config", "config": config.model_dump()}


class SceneMessage(TypedDict):
    type: Literal["scene"]
    scene: dict[str, Any]


def scene_message(scene: dict[str, Any]) -> SceneMessage:
    """The new scene as explicit points (`rftoy.protocol.points_scene`), after set_scene."""
    return {"type": "scene", "scene": scene}


class NetInfo(TypedDict):
    width: int
    depth: int
    activation: Activation
    parameters: int


class SolverInfo(TypedDict):
    method: Method
    steps: int
    warp_s: float


class FrameInfo(TypedDict):
    kind: str
    shape: list[int]


def net_info(*, width: int, depth: int, activation: Activation, parameters: int) -> NetInfo:
    return {"width": width, "depth": depth, "activation": activation, "parameters": parameters}


def solver_info(*, method: Method, steps: int, warp_s: float) -> SolverInfo:
    return {"method": method, "steps": steps, "warp_s": warp_s}


def frame_info(*, kind: str, shape: list[int]) -> FrameInfo:
    """One binary frame that follows a snapshot: its kind's name and its array's shape."""
    return {"kind": kind, "shape": shape}


class RoundSummary(TypedDict):
    kind: RoundKind
    name: str
    step: int
    loss: float | None
    converged: bool
    coupling: Coupling
    teacher: int | None
    index: int


def round_summary(*, index: int, kind: RoundKind, name: str, step: int, loss: float | None, converged: bool,
                  coupling: Coupling, teacher: int | None) -> RoundSummary:
    return {"kind": kind, "name": name, "step": step, "loss": loss, "converged": converged, "coupling": coupling,
            "teacher": teacher, "index": index}


class SnapshotHead(TypedDict):
    """What the session decides before a chunk runs: the round shown, the edits included, the net and solver."""

    type: Literal["snapshot"]
    round: int
    applied_seq: int | None
    net: NetInfo
    solver: SolverInfo
    coarse: bool


class TracedSnapshot(SnapshotHead):
    """… and what the chunk found: the round's step and loss, the time grid, the points and the frames."""

    step: int
    loss: float | None
    times: list[float]
    n: int
    frames: list[FrameInfo]


class SnapshotMessage(TracedSnapshot):
    """… and what the session adds as it sends it: its number, its state and every round."""

    seq: int
    state: RunState
    rounds: list[RoundSummary]


def snapshot_head(*, round_index: int, applied_seq: int | None, net: NetInfo, solver: SolverInfo,
                  coarse: bool) -> SnapshotHead:
    return {"type": "snapshot", "round": round_index, "applied_seq": applied_seq, "net": net, "solver": solver,
            "coarse": coarse}


def traced_snapshot(head: SnapshotHead, *, step: int, loss: float | None, times: list[float], n: int,
                    frames: list[FrameInfo]) -> TracedSnapshot:
    return {**head, "step": step, "loss": loss, "times": times, "n": n, "frames": frames}


def snapshot_message(traced: TracedSnapshot, *, seq: int, state: RunState,
                     rounds: list[RoundSummary]) -> SnapshotMessage:
    return {**traced, "seq": seq, "state": state, "rounds": rounds}


class EulerSample(TypedDict):
    steps: int
    w2: float | None
    points: list[float] | None


class ChosenSample(EulerSample):
    method: Method


class Quality(TypedDict):
    """Sample quality by steps (docs/protocol.md, 'metrics')."""

    against: str
    n: int
    floor: float | None
    euler: list[EulerSample]
    chosen: ChosenSample


def euler_sample(*, steps: int, w2: float | None, points: list[float] | None) -> EulerSample:
    return {"steps": steps, "w2": w2, "points": points}


def chosen_sample(*, method: Method, steps: int, w2: float | None, points: list[float] | None) -> ChosenSample:
    return {"method": method, "steps": steps, "w2": w2, "points": points}


def quality_report(*, against: str, n: int, floor: float | None, euler: list[EulerSample],
                   chosen: ChosenSample) -> Quality:
    return {"against": against, "n": n, "floor": floor, "euler": euler, "chosen": chosen}


class Crossing(TypedDict):
    pairs: float
    flow: float


class Cost(TypedDict):
    sq: float
    abs: float


class Costs(TypedDict):
    pairs: Cost
    flow: Cost


class Straightness(TypedDict):
    s: float
    s_norm: float


class Measures(TypedDict):
    """A round's metrics as of one snapshot; `pairing` only for an OT round (null if the scene changed since)."""

    crossing: Crossing
    cost: Costs
    straightness: Straightness | None
    w2: float | None
    energy: float | None
    pairing: NotRequired[list[int] | None]
    quality: Quality | None


def measures(*, crossing: Crossing, cost: Costs, straightness: Straightness | None, w2: float | None,
             energy: float | None, quality: Quality | None, ot: bool = False, pairing: list[int] | None = None
             ) -> Measures:
    """`ot`: the round pairs its points by OT, so the message carries its `pairing`."""
    return {"crossing": crossing, "cost": cost, "straightness": straightness, "w2": w2, "energy": energy,
            **({"pairing": pairing} if ot else {}), "quality": quality}


class Metrics(Measures):
    round: int
    step: int
    loss: float | None


class MetricsMessage(Metrics):
    type: Literal["metrics"]


class RoundDoneMessage(TypedDict):
    type: Literal["round_done"]
    round: int
    kind: RoundKind
    name: str
    step: int
    metrics: Metrics


def metrics_of(*, round_index: int, step: int, loss: float | None, found: Measures) -> Metrics:
    """A round's metrics and where it stood (its index, step and loss) when they were taken."""
    return {"round": round_index, "step": step, "loss": loss, **found}


def metrics_message(metrics: Metrics) -> MetricsMessage:
    return {"type": "metrics", **metrics}


def round_done_message(*, kind: RoundKind, name: str, metrics: Metrics) -> RoundDoneMessage:
    """The selected round converged: its name and kind, and its last metrics."""
    return {"type": "round_done", "round": metrics["round"], "kind": kind, "name": name, "step": metrics["step"],
            "metrics": metrics}


SessionMessage = ErrorMessage | ConfigMessage | SceneMessage | MetricsMessage | RoundDoneMessage
"""The control messages a live session sends (its snapshots go apart, newest first: `SnapshotMessage`)."""

"""The live protocol, version 1: pydantic models of every JSON message and the binary frame codec.

docs/protocol.md is the reader's version of this file. Limits that depend on the settings are checked with the
settings passed as validation context (`parse_client_message`), so every check lives in the models.
"""

from __future__ import annotations

import json
import math
import reprlib
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from rftoy import data
from rftoy.bounds import field_bounds, plain_error, points_bound, refuse, setting_bounds
from rftoy.flow import TimeSampling
from rftoy.model import Activation
from rftoy.settings import Settings
from rftoy.solvers import Method

PROTOCOL_VERSION = 1
SEED_LIMIT = 2**31
MAX_NONCE_CHARS = 64
MAX_ECHO_CHARS = 40
MAX_REASON_CHARS = 400
MAX_SCENE_ID_CHARS = 64
MAX_SEQ = 2**53 - 1  # the largest integer a JavaScript number holds exactly
_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = MAX_ECHO_CHARS

# JSON numbers only: no booleans for integers, no strings for numbers (an integer is a fine float).
Integer = StrictInt
Number = StrictFloat
Seq = Annotated[StrictInt, Field(ge=0, le=MAX_SEQ)]


def echo(value: Any) -> str:
    """A client value quoted in an error, shortened: replies must stay small however big the input."""
    return _repr.repr(value)


def clip(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """A reason cut to `limit` characters, the last one an ellipsis when cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def problems(error: ValidationError) -> list[dict[str, Any]]:
    """A validation error's problems as {"loc", "msg"}, every quoted client value cut to about 40 characters.

    pydantic quotes some inputs in its messages (a discriminator's tag, for one); each long string of an error's
    context is replaced by its shortened form, and the loc's keys (client keys, for unknown fields) are shortened.
    """
    found = []
    for item in error.errors(include_url=False):
        msg = item["msg"].removeprefix("Value error, ")
        for value in (item.get("ctx") or {}).values():
            if isinstance(value, str) and len(value) > MAX_ECHO_CHARS:
                msg = msg.replace(value, echo(value)[1:-1])
        loc = [p if isinstance(p, int) else echo(p)[1:-1] for p in item["loc"]]
        found.append({"loc": loc, "msg": clip(msg)})
    return found


class ProtocolError(Exception):
    """A client message that cannot be accepted; `code` is one of the documented error codes."""

    def __init__(self, code: str, message: str, in_reply_to: str | None = None, seq: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.in_reply_to = in_reply_to
        self.seq = seq


def _limits(info: ValidationInfo) -> Settings:
    if not isinstance(info.context, dict) or not isinstance(info.context.get("settings"), Settings):
        raise ValueError("validation needs the server settings as context")
    return info.context["settings"]


def _check_point(point: tuple[float, float], limit: float) -> None:
    for value in point:
        if not math.isfinite(value):
            raise ValueError(f"coordinate {value} is not a finite number")
        if abs(value) > limit:
            raise ValueError(f"coordinate {value} is outside ±{limit}")


def _check_preset(name: str | None) -> str | None:
    if name is not None and name not in data.PRESETS:
        raise ValueError(f"unknown preset {echo(name)}; choose one of {', '.join(data.PRESETS)}")
    return name


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Point = tuple[Number, Number]


class PresetScene(Strict):
    """n samples of `source` paired i ↔ i with n samples of `target`, drawn from `seed`."""

    kind: Literal["preset"] = "preset"
    source: str = "gaussian"
    target: str = "moons"
    n: Integer = Field(256, ge=1)
    seed: Integer = Field(0, ge=0, lt=SEED_LIMIT)

    @field_validator("source", "target")
    @classmethod
    def _known(cls, name: str) -> str:
        return _check_preset(name)

    @field_validator("n")
    @classmethod
    def _n_limit(cls, n: int, info: ValidationInfo) -> int:
        limits = _limits(info)
        if not limits.min_points <= n <= limits.max_points:
            raise refuse(points_bound(limits))
        return n


class PointsScene(Strict):
    """Explicit pairs (x0[i], x1[i]); the optional preset names let online mode sample fresh pairs."""

    kind: Literal["points"] = "points"
    x0: list[Point]
    x1: list[Point]
    source: str | None = None
    target: str | None = None

    @field_validator("source", "target")
    @classmethod
    def _known(cls, name: str | None) -> str | None:
        return _check_preset(name)

    @field_validator("x0", "x1", mode="before")
    @classmethod
    def _count_first(cls, points: Any, info: ValidationInfo) -> Any:
        """The count is checked before any point is: a huge cloud is refused without validating its points."""
        limit = _limits(info).max_points
        if isinstance(points, list) and len(points) > limit:
            raise ValueError(f"{len(points)} points; a cloud holds 1 to {limit}")
        return points

    @field_validator("x0", "x1")
    @classmethod
    def _points(cls, points: list[Point], info: ValidationInfo) -> list[Point]:
        limits = _limits(info)
        if not 1 <= len(points) <= limits.max_points:
            raise ValueError(f"{len(points)} points; a cloud holds 1 to {limits.max_points}")
        for point in points:
            _check_point(point, limits.max_coordinate)
        return points

    @model_validator(mode="after")
    def _paired(self) -> PointsScene:
        if len(self.x0) != len(self.x1):
            raise ValueError(f"x0 has {len(self.x0)} points and x1 has {len(self.x1)}; they pair i ↔ i")
        return self


Scene = Annotated[PresetScene | PointsScene, Field(discriminator="kind")]


def points_scene(x0: list[Point], x1: list[Point], source: str | None, target: str | None) -> dict[str, Any]:
    """A points scene as plain data (how scenes are sent and stored)."""
    return {"kind": "points", "x0": x0, "x1": x1, "source": source, "target": target}


class Config(Strict):
    """Everything the user can set in a live session (docs/protocol.md, 'Config')."""

    width: Integer = Field(64, ge=1)
    depth: Integer = Field(3, ge=1)
    activation: Activation = "silu"
    seed: Integer = Field(0, ge=0, lt=SEED_LIMIT)
    lr: Number = Field(0.005, gt=0, le=1)
    batch: Integer = Field(256, ge=1)
    time_sampling: TimeSampling = "uniform"
    warp_s: Number = Field(1.0, ge=0, le=1.5)
    mode: Literal["pairs", "online"] = "pairs"
    coupling: Literal["independent", "ot"] = "independent"
    solver: Method = "midpoint"
    steps: Integer = Field(12, ge=1)


NET_FIELDS = frozenset({"width", "depth", "activation", "seed"})
TRAIN_FIELDS = frozenset({"lr", "batch", "time_sampling", "warp_s", "mode"})


class _Patch(Strict):
    """A partial Config: only the fields present change."""

    @model_validator(mode="after")
    def _within_limits(self, info: ValidationInfo) -> _Patch:
        limits = _limits(info)
        for name, value, limit in (("width", self.width, limits.max_width), ("depth", self.depth, limits.max_depth),
                                   ("steps", self.steps, limits.max_solver_steps),
                                   ("batch", self.batch, limits.max_points)):
            if value is not None and value > limit:
                raise refuse(field_bounds(name, Config.model_fields[name], limit))
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)

    def apply(self, config: Config) -> Config:
        return config.model_copy(update=self.changes())


def _optional(field: FieldInfo) -> tuple[Any, FieldInfo]:
    """A Config field as an optional patch field: same type and limits, absent (None) by default."""
    return field.annotation | None, FieldInfo.merge_field_infos(field, default=None)


# Config's fields, each optional with the same type and limits.
ConfigPatch = create_model("ConfigPatch", __base__=_Patch, __doc__=_Patch.__doc__,
                           **{name: _optional(field) for name, field in Config.model_fields.items()})


class SceneBody(Strict):
    """The POST /api/scenes body before its limits are checked (`validate_scene`, `validate_patch`)."""

    scene: dict[str, Any]
    config: dict[str, Any] | None = None


# Client → server messages.


class Hello(Strict):
    type: Literal["hello"]
    protocol: Integer
    scene: Scene | None = None
    scene_id: str | None = Field(None, min_length=1, max_length=MAX_SCENE_ID_CHARS)
    config: ConfigPatch | None = None
    snapshot_window: Integer | None = Field(None, ge=1, le=16)

    @model_validator(mode="after")
    def _one_scene(self) -> Hello:
        if self.scene is not None and self.scene_id is not None:
            raise ValueError("give either scene or scene_id, not both")
        return self


class Move(Strict):
    cloud: Literal["x0", "x1"]
    index: Integer = Field(ge=0)
    x: Number
    y: Number

    @model_validator(mode="after")
    def _finite(self, info: ValidationInfo) -> Move:
        _check_point((self.x, self.y), _limits(info).max_coordinate)
        return self


class Edit(Strict):
    type: Literal["edit"]
    seq: Seq
    moves: list[Move] = Field(min_length=1)

    @field_validator("moves", mode="before")
    @classmethod
    def _few_enough(cls, moves: Any, info: ValidationInfo) -> Any:
        """Checked before any move is validated, so a huge edit costs no per-move work."""
        limit = 2 * _limits(info).max_points
        if isinstance(moves, list) and len(moves) > limit:
            raise ValueError(f"{len(moves)} moves; at most {limit} per edit")
        return moves


class AddPair(Strict):
    """A new pair (x0, x1), inserted at `index` (shifting the later pairs up), or appended when it is absent."""

    type: Literal["add_pair"]
    seq: Seq
    x0: Point
    x1: Point
    index: Integer | None = Field(None, ge=0)

    @field_validator("x0", "x1")
    @classmethod
    def _finite(cls, point: Point, info: ValidationInfo) -> Point:
        _check_point(point, _limits(info).max_coordinate)
        return point


class RemovePair(Strict):
    type: Literal["remove_pair"]
    seq: Seq
    index: Integer = Field(ge=0)


class SetScene(Strict):
    type: Literal["set_scene"]
    scene: Scene


class SetConfig(Strict):
    type: Literal["set_config"]
    config: ConfigPatch


class Reflow(Strict):
    type: Literal["reflow"]


class Distill(Strict):
    type: Literal["distill"]


class SelectRound(Strict):
    type: Literal["select_round"]
    round: Integer = Field(ge=0)


class Pause(Strict):
    type: Literal["pause"]


class Resume(Strict):
    type: Literal["resume"]


class Reset(Strict):
    type: Literal["reset"]


class Ping(Strict):
    """Echoed in the pong; short, so that unread replies stay small."""

    type: Literal["ping"]
    nonce: Annotated[str, Field(max_length=MAX_NONCE_CHARS)] | Annotated[StrictInt, Field(ge=-MAX_SEQ, le=MAX_SEQ)] \
        | None = None


class Ack(Strict):
    """The client has drawn snapshot `seq` (flow control, when hello asked for a snapshot_window)."""

    type: Literal["ack"]
    seq: Annotated[StrictInt, Field(ge=1, le=MAX_SEQ)]


ClientMessage = Annotated[
    Hello | Edit | AddPair | RemovePair | SetScene | SetConfig | Reflow | Distill | SelectRound | Pause | Resume
    | Reset | Ping | Ack,
    Field(discriminator="type"),
]
_client_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
CLIENT_TYPES = ("hello", "edit", "add_pair", "remove_pair", "set_scene", "set_config", "reflow", "distill",
                "select_round", "pause", "resume", "reset", "ping", "ack")


def _describe(error: ValidationError, message_type: str, settings: Settings) -> str:
    """The first problem of a validation error as 'path: reason' (path starts at the message type); a setting
    out of its range in plain words alone ("learning rate must be above 0 and at most 1")."""
    plain = plain_error(error.errors(include_url=False)[0], setting_bounds(settings, Config.model_fields))
    if plain is not None:
        return plain
    first = problems(error)[0]
    return f"{'.'.join([message_type, *map(str, first['loc'][1:])])}: {first['msg']}"


def parse_client_message(text: str, settings: Settings) -> Any:
    """Validate one JSON text frame into a client message model, or raise ProtocolError."""
    try:
        raw = json.loads(text)
    except ValueError as error:  # also integers over Python's 4300-digit limit
        raise ProtocolError("bad_json", f"not valid JSON: {error}") from None
    except RecursionError:
        raise ProtocolError("bad_json", "not valid JSON: nested too deeply") from None
    if not isinstance(raw, dict):
        raise ProtocolError("bad_json", "a message must be a JSON object")
    message_type = raw.get("type")
    seq = raw.get("seq") if type(raw.get("seq")) is int and 0 <= raw["seq"] <= MAX_SEQ else None
    if message_type not in CLIENT_TYPES:
        raise ProtocolError("unknown_type", f"unknown message type {echo(message_type)}; expected one of "
                            f"{', '.join(CLIENT_TYPES)}", seq=seq)
    try:
        message = _client_adapter.validate_python(raw, context={"settings": settings})
    except ValidationError as error:
        raise ProtocolError("invalid", _describe(error, message_type, settings), message_type, seq) from None
    if isinstance(message, Hello) and message.protocol != PROTOCOL_VERSION:
        raise ProtocolError("version", f"protocol version {message.protocol} is not supported; this server speaks "
                            f"version {PROTOCOL_VERSION}", "hello")
    return message


def validate_scene(raw: Any, settings: Settings) -> PresetScene | PointsScene:
    """A Scene from plain data (HTTP bodies, the store), checked against the limits."""
    return TypeAdapter(Scene).validate_python(raw, context={"settings": settings})


def validate_patch(raw: Any, settings: Settings) -> ConfigPatch:
    return ConfigPatch.model_validate(raw, context={"settings": settings})


# Server → client messages are plain dicts built here, so their shape is written down in one place.


def error_message(error: ProtocolError) -> dict[str, Any]:
    return {"type": "error", "code": error.code, "message": error.message, "in_reply_to": error.in_reply_to,
            "seq": error.seq}


def limits_of(settings: Settings) -> dict[str, Any]:
    names = ("max_points", "max_width", "max_depth", "max_solver_steps", "max_message_bytes", "max_rounds",
             "max_coordinate", "max_messages_per_second", "message_burst", "idle_timeout_s", "snapshot_hz",
             "busy_snapshot_hz", "teacher_steps", "metrics_max_points", "max_trace_work")
    limits: dict[str, Any] = {name: getattr(settings, name) for name in names}
    return {**limits, "bounds": setting_bounds(settings, Config.model_fields)}


# Binary frames.

MAGIC = b"RFTY"
HEADER = struct.Struct("<4sBBBBI3I")


class FrameKind(IntEnum):
    WEIGHTS = 1
    TRAJECTORIES = 2
    ENDPOINTS = 3


@dataclass(frozen=True)
class Frame:
    kind: FrameKind
    seq: int
    array: np.ndarray


def encode_frame(kind: FrameKind, seq: int, array: np.ndarray) -> bytes:
    """Header (magic, version, kind, ndim, seq, shape) then the array as little-endian float32."""
    if not 1 <= array.ndim <= 3:
        raise ValueError(f"frames hold 1 to 3 dimensions, got {array.ndim}")
    shape = [*array.shape, 0, 0][:3]
    header = HEADER.pack(MAGIC, PROTOCOL_VERSION, int(kind), array.ndim, 0, seq, *shape)
    return header + np.ascontiguousarray(array, dtype="<f4").tobytes()


def decode_frame(frame: bytes) -> Frame:
    """The inverse of `encode_frame` (used by tests and the latency bench)."""
    if len(frame) < HEADER.size:
        raise ValueError(f"a frame needs at least {HEADER.size} bytes, got {len(frame)}")
    magic, version, kind, ndim, _, seq, *shape = HEADER.unpack_from(frame)
    if magic != MAGIC or version != PROTOCOL_VERSION:
        raise ValueError(f"not an rftoy v{PROTOCOL_VERSION} frame")
    dims = tuple(shape[:ndim])
    array = np.frombuffer(frame, dtype="<f4", offset=HEADER.size)
    if array.size != math.prod(dims):
        raise ValueError(f"frame holds {array.size} values, its shape {dims} needs {math.prod(dims)}")
    return Frame(FrameKind(kind), seq, array.reshape(dims))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def dumps(message: dict[str, Any]) -> str:
    """JSON text of a server message; non-finite numbers (a diverged loss) become null, as JSON has no NaN."""
    try:
        return json.dumps(message, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps(_finite(message), separators=(",", ":"))

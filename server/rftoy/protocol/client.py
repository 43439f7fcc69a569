"""Client → server messages: one discriminated union, parsed from a JSON text frame (`parse_client_message`)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    Field,
    StrictInt,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from rftoy.protocol.bounds import plain_error, setting_bounds
from rftoy.protocol.config import Config, ConfigPatch, Scene
from rftoy.protocol.wire import (
    MAX_NONCE_CHARS,
    MAX_SCENE_ID_CHARS,
    MAX_SEQ,
    PROTOCOL_VERSION,
    Integer,
    Number,
    Point,
    ProtocolError,
    Seq,
    Strict,
    _check_point,
    _limits,
    echo,
    problems,
)
from rftoy.settings import Settings


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
# Each client message model by its `type`, read from the union: the one list of client messages.
CLIENT_MESSAGES: dict[str, type[Strict]] = {get_args(model.model_fields["type"].annotation)[0]: model
                                            for model in get_args(get_args(ClientMessage)[0])}
CLIENT_TYPES = tuple(CLIENT_MESSAGES)


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



"""What every message shares: the protocol version, size limits, strict number types, quoting a client's value
in an error, and JSON text out (non-finite numbers become null)."""

from __future__ import annotations

import json
import math
import reprlib
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    ValidationInfo,
)

from rftoy.settings import Settings
from rftoy.vocab import PRESET_NAMES

PROTOCOL_VERSION = 1
SEED_LIMIT = 2**31
MAX_NONCE_CHARS = 64
MAX_ECHO_CHARS = 40
MAX_REASON_CHARS = 400
MAX_SCENE_ID_CHARS = 64
MAX_SEQ = 2**53 - 1  # the largest integer a JavaScript number holds exactly
# Websocket close codes the server uses (docs/protocol.md, "Limits and closing").
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
CLOSE_TRY_LATER = 1013
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
    if name is not None and name not in PRESET_NAMES:
        raise ValueError(f"unknown preset {echo(name)}; choose one of {', '.join(PRESET_NAMES)}")
    return name


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Point = tuple[Number, Number]



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


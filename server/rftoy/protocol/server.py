"""Server → client messages, built here so that their shape is written down in one place."""

from __future__ import annotations

from typing import Any

from rftoy.protocol.bounds import setting_bounds
from rftoy.protocol.config import Config
from rftoy.protocol.wire import ProtocolError
from rftoy.settings import Settings


def error_message(error: ProtocolError) -> dict[str, Any]:
    return {"type": "error", "code": error.code, "message": error.message, "in_reply_to": error.in_reply_to,
            "seq": error.seq}


def limits_of(settings: Settings) -> dict[str, Any]:
    names = ("max_points", "max_width", "max_depth", "max_solver_steps", "max_message_bytes", "max_rounds",
             "max_coordinate", "max_messages_per_second", "message_burst", "idle_timeout_s", "snapshot_hz",
             "busy_snapshot_hz", "teacher_steps", "metrics_max_points", "max_trace_work")
    limits: dict[str, Any] = {name: getattr(settings, name) for name in names}
    return {**limits, "bounds": setting_bounds(settings, Config.model_fields)}



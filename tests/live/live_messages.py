"""Client messages for the live layer's unit tests, validated as the socket validates them."""

from __future__ import annotations

import json
from typing import Any

from rftoy.protocol import parse_client_message
from rftoy.settings import Settings

SETTINGS = Settings(max_points=64, max_rounds=4, max_pending_ops=3, converge_window=50)
SMALL = {"width": 8, "depth": 1, "steps": 2, "solver": "euler", "batch": 8}


def message(settings: Settings = SETTINGS, **raw: Any) -> Any:
    """A client message from its JSON fields, through the protocol's parser."""
    return parse_client_message(json.dumps(raw), settings)


def move(seq: int, *moves: tuple[str, int, float, float]) -> Any:
    return message(type="edit", seq=seq, moves=[{"cloud": c, "index": i, "x": x, "y": y} for c, i, x, y in moves])

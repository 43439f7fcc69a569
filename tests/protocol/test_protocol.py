"""The binary frame codec and message parsing, without a server."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from rftoy.live.budget import train_work
from rftoy.protocol import (
    HEADER,
    Config,
    FrameKind,
    ProtocolError,
    decode_frame,
    dumps,
    encode_frame,
    parse_client_message,
)
from rftoy.settings import Settings

SETTINGS = Settings(max_points=8)


def test_frame_header_layout_and_round_trip() -> None:
    array = np.arange(3 * 4 * 2, dtype=np.float32).reshape(3, 4, 2)
    frame = encode_frame(FrameKind.TRAJECTORIES, 258, array)
    assert HEADER.size == 24 and len(frame) == 24 + array.size * 4
    assert frame[:4] == b"RFTY" and frame[4] == 1 and frame[5] == 2 and frame[6] == 3 and frame[7] == 0
    assert struct.unpack_from("<I", frame, 8)[0] == 258
    assert struct.unpack_from("<3I", frame, 12) == (3, 4, 2)
    assert struct.unpack_from("<f", frame, 24 + 4 * 5)[0] == 5.0
    decoded = decode_frame(frame)
    assert decoded.kind is FrameKind.TRAJECTORIES and decoded.seq == 258
    np.testing.assert_array_equal(decoded.array, array)
    weights = decode_frame(encode_frame(FrameKind.WEIGHTS, 1, np.ones(7, dtype=np.float64)))
    assert weights.array.shape == (7,) and weights.array.dtype == np.float32
    with pytest.raises(ValueError, match="frame holds"):
        decode_frame(frame[:-4])
    with pytest.raises(ValueError, match="not an rftoy"):
        decode_frame(b"XXXX" + frame[4:])


def test_messages_parse_into_models() -> None:
    edit = parse_client_message('{"type": "edit", "seq": 3, "moves": [{"cloud": "x1", "index": 7, "x": 1, "y": 2}]}',
                                SETTINGS)
    assert edit.seq == 3 and edit.moves[0].cloud == "x1" and edit.moves[0].x == 1.0
    hello = parse_client_message('{"type": "hello", "protocol": 1, "scene": {"kind": "preset", "n": 8}}', SETTINGS)
    assert hello.scene.n == 8 and hello.scene.source == "gaussian"


@pytest.mark.parametrize(("text", "code"), [
    ("", "bad_json"),
    ('"edit"', "bad_json"),
    ('{"type": 5}', "unknown_type"),
    ('{"type": "hello", "protocol": 3}', "version"),
    ('{"type": "hello", "protocol": 1, "scene": {"kind": "preset", "n": 9}}', "invalid"),
    ('{"type": "hello", "protocol": 1, "scene": {"kind": "preset"}, "scene_id": "x"}', "invalid"),
    ('{"type": "edit", "seq": -1, "moves": [{"cloud": "x0", "index": 0, "x": 0, "y": 0}]}', "invalid"),
    ('{"type": "add_pair", "seq": 1, "x0": [0, -Infinity], "x1": [0, 0]}', "invalid"),
])
def test_bad_messages_raise_protocol_errors(text: str, code: str) -> None:
    with pytest.raises(ProtocolError) as error:
        parse_client_message(text, SETTINGS)
    assert error.value.code == code


def test_server_json_never_carries_nan() -> None:
    assert dumps({"type": "metrics", "loss": float("nan"), "w2": [1.0, float("inf")]}) == \
        '{"type":"metrics","loss":null,"w2":[1.0,null]}'


def test_the_default_config_fits_the_default_limits_in_every_mode() -> None:
    """Reflow in online mode (the reflow pool's first fill included) is not refused at the session's default batch
    nor at the engine's recipe batch of 512."""
    settings = Settings()
    for mode in ("pairs", "online"):
        for batch in (Config().batch, 512):
            assert train_work(Config(mode=mode, batch=batch), settings.teacher_steps) <= settings.max_trace_work

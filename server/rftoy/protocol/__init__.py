"""The live protocol, version 1: one schema for both directions (docs/protocol.md is the reader's version).

`wire` holds what every message shares, `config` the scene and settings a client sends, `client` the client
messages, `server` the server messages and `frames` the binary frames. Limits that depend on the settings are
checked with the settings passed as validation context, so every check lives in the models.
"""

from rftoy.protocol.client import (
    CLIENT_MESSAGES,
    CLIENT_TYPES,
    Ack,
    AddPair,
    ClientMessage,
    Distill,
    Edit,
    Hello,
    Move,
    Pause,
    Ping,
    Reflow,
    RemovePair,
    Reset,
    Resume,
    SelectRound,
    SetConfig,
    SetScene,
    parse_client_message,
)
from rftoy.protocol.config import (
    NET_FIELDS,
    TRAIN_FIELDS,
    Config,
    ConfigPatch,
    PointsScene,
    PresetScene,
    Scene,
    SceneBody,
    defaults,
    points_scene,
    validate_patch,
    validate_scene,
)
from rftoy.protocol.frames import HEADER, MAGIC, Frame, FrameKind, decode_frame, encode_frame
from rftoy.protocol.server import error_message, limits_of
from rftoy.protocol.wire import (
    CLOSE_GOING_AWAY,
    CLOSE_INTERNAL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_TRY_LATER,
    MAX_ECHO_CHARS,
    MAX_NONCE_CHARS,
    MAX_REASON_CHARS,
    MAX_SCENE_ID_CHARS,
    MAX_SEQ,
    PROTOCOL_VERSION,
    SEED_LIMIT,
    Integer,
    Number,
    Point,
    ProtocolError,
    Seq,
    Strict,
    clip,
    dumps,
    echo,
    problems,
)

__all__ = [
    "CLIENT_MESSAGES", "CLIENT_TYPES", "CLOSE_GOING_AWAY", "CLOSE_INTERNAL", "CLOSE_POLICY", "CLOSE_TOO_BIG",
    "CLOSE_TRY_LATER", "HEADER", "MAGIC", "MAX_ECHO_CHARS", "MAX_NONCE_CHARS", "MAX_REASON_CHARS",
    "MAX_SCENE_ID_CHARS", "MAX_SEQ", "NET_FIELDS", "PROTOCOL_VERSION", "SEED_LIMIT", "TRAIN_FIELDS", "Ack",
    "AddPair", "ClientMessage", "Config", "ConfigPatch", "Distill", "Edit", "Frame", "FrameKind", "Hello",
    "Integer", "Move", "Number", "Pause", "Ping", "Point", "PointsScene", "PresetScene", "ProtocolError",
    "Reflow", "RemovePair", "Reset", "Resume", "Scene", "SceneBody", "SelectRound", "Seq", "SetConfig",
    "SetScene", "Strict", "clip", "decode_frame", "defaults", "dumps", "echo", "encode_frame", "error_message",
    "limits_of", "parse_client_message", "points_scene", "problems", "validate_patch", "validate_scene",
]

"""Binary frames: a fixed header then one float32 array (weights, trajectories or endpoints)."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from rftoy.protocol.wire import PROTOCOL_VERSION

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



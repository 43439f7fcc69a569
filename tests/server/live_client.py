"""A websockets client for the server tests: reads snapshots with their frames, waits for messages by type."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from rftoy.protocol import FrameKind, decode_frame
from websockets.asyncio.client import ClientConnection, connect

TIMEOUT = 10.0


async def eventually(test: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for a server-side condition (checked every 20 ms between the loop's other work), failing after
    `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not test():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


@dataclass
class Snapshot:
    meta: dict[str, Any]
    weights: np.ndarray
    trajectories: np.ndarray
    endpoints: np.ndarray


class LiveClient:
    """One connection; `next` returns the next message (a snapshot with its frames decoded, or a dict)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> LiveClient:
        return cls(await connect(url, max_size=None, compression=None, **kwargs))

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def hello(self, **fields: Any) -> dict[str, Any]:
        await self.send({"type": "hello", "protocol": 1, **fields})
        return await self.wait("ready")

    async def next(self, timeout: float = TIMEOUT) -> dict[str, Any] | Snapshot:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        if isinstance(raw, bytes):
            raise AssertionError("a binary frame arrived without its snapshot message")
        message = json.loads(raw)
        if message["type"] != "snapshot":
            return message
        frames = {}
        for described in message["frames"]:
            frame = decode_frame(await asyncio.wait_for(self.ws.recv(), timeout))
            assert frame.seq == message["seq"]
            assert frame.kind.name.lower() == described["kind"]
            assert list(frame.array.shape) == described["shape"]
            frames[frame.kind] = frame.array
        return Snapshot(message, frames[FrameKind.WEIGHTS], frames[FrameKind.TRAJECTORIES],
                        frames[FrameKind.ENDPOINTS])

    async def wait(self, kind: str, timeout: float = TIMEOUT, **match: Any) -> Any:
        """The next message of type `kind` whose fields equal `match` (skipping others); fails on an error."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.next(max(0.0, deadline - loop.time()))
            fields = message.meta if isinstance(message, Snapshot) else message
            if fields["type"] == "error" and kind != "error":
                raise AssertionError(f"unexpected error while waiting for {kind}: {fields}")
            if fields["type"] == kind and all(fields.get(k) == v for k, v in match.items()):
                return message

    async def snapshot_where(self, test: Any, timeout: float = TIMEOUT) -> Snapshot:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            snapshot = await self.wait("snapshot", max(0.0, deadline - loop.time()))
            if test(snapshot):
                return snapshot

    async def close(self) -> None:
        await self.ws.close()

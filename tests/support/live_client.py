"""The websocket client of the tests: reads snapshots with their frames decoded, waits for messages by type, and
reads a refusal to its close. Tests observe a session only through what this client receives (and GET
/api/metrics), as the page does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from rftoy.protocol import FrameKind, decode_frame
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TIMEOUT = 10.0
SMALL_SCENE = {"kind": "preset", "source": "gaussian", "target": "moons", "n": 32, "seed": 0}
SMALL_NET = {"width": 16, "depth": 2}
SMALL = {"scene": SMALL_SCENE, "config": SMALL_NET}  # hello fields of a quick session


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
    async def open(cls, url: str, **headers: str) -> LiveClient:
        """Connect to `url` with extra request headers (Origin, X-Forwarded-For, ...)."""
        return cls(await connect(url, max_size=None, compression=None, additional_headers=headers or None))

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        """Send a message: a dict as JSON, a str or bytes as they are (for malformed input)."""
        await self.ws.send(message if isinstance(message, str | bytes) else json.dumps(message))

    async def hello(self, **fields: Any) -> dict[str, Any]:
        """Say hello with `fields` (SMALL for a quick session; none for the server's defaults); return `ready`."""
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

    async def where(self, kind: str, test: Callable[[Any], bool], timeout: float = TIMEOUT) -> Any:
        """The next message of type `kind` that passes `test` (skipping others); fails on an error."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.next(max(0.0, deadline - loop.time()))
            fields = fields_of(message)
            if fields["type"] == "error" and kind != "error":
                raise AssertionError(f"unexpected error while waiting for {kind}: {fields}")
            if fields["type"] == kind and test(message):
                return message

    async def wait(self, kind: str, timeout: float = TIMEOUT, **match: Any) -> Any:
        """The next message of type `kind` whose fields equal `match` (skipping others); fails on an error."""
        return await self.where(kind, lambda m: all(fields_of(m).get(k) == v for k, v in match.items()), timeout)

    async def snapshot_where(self, test: Callable[[Snapshot], bool], timeout: float = TIMEOUT) -> Snapshot:
        return await self.where("snapshot", test, timeout)

    async def metrics_after(self, snapshot: Snapshot, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next metrics of `snapshot`'s round measured at its step or later (so on its scene or a later one)."""
        meta = snapshot.meta
        return await self.where("metrics", lambda m: m["round"] == meta["round"] and m["step"] >= meta["step"],
                                timeout)

    async def refused(self, message: dict[str, Any] | str | bytes, timeout: float = TIMEOUT) -> dict[str, Any]:
        """Send `message` and return the error it gets."""
        await self.send(message)
        return await self.wait("error", timeout)

    async def config(self) -> dict[str, Any]:
        """The session's whole config, as it answers an empty set_config (which changes nothing)."""
        await self.send({"type": "set_config", "config": {}})
        return (await self.wait("config"))["config"]

    async def refusal(self, timeout: float = TIMEOUT) -> tuple[list[dict[str, Any]], int, str]:
        """Read until the server closes: the error messages it sent, the close code and the reason."""
        errors: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(timeout):
                while True:
                    raw = await self.ws.recv()
                    if isinstance(raw, str) and json.loads(raw)["type"] == "error":
                        errors.append(json.loads(raw))
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "the connection dropped without a close frame"
            return errors, closed.rcvd.code, closed.rcvd.reason

    async def drain(self) -> None:
        """Read and drop everything until the connection closes, so the server never waits on this client."""
        async for _ in self.ws:
            pass

    async def close(self) -> None:
        await self.ws.close()


def fields_of(message: dict[str, Any] | Snapshot) -> dict[str, Any]:
    return message.meta if isinstance(message, Snapshot) else message


async def eventually(test: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for a condition (checked every 20 ms between the loop's other work), failing after `timeout` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not test():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def assert_unchanged(client: LiveClient, ready: dict[str, Any], paused: Snapshot) -> None:
    """The paused session still holds `ready`'s config and scene and `paused`'s rounds: its whole config answers an
    empty set_config, the snapshot that follows shows x0 and the rounds, and once it trains again its metrics give
    the cost of the pairs (x0, x1). It trains on afterwards."""
    assert await client.config() == ready["config"]
    shown = await client.snapshot_where(lambda s: s.meta["seq"] > paused.meta["seq"])
    x0, x1 = np.asarray(ready["scene"]["x0"], dtype=np.float32), ready["scene"]["x1"]
    np.testing.assert_array_equal(shown.trajectories[0], x0)
    assert shown.meta["rounds"] == paused.meta["rounds"] and shown.meta["step"] == paused.meta["step"]
    await client.send({"type": "resume"})
    trained = await client.snapshot_where(lambda s: s.meta["step"] > shown.meta["step"])
    cost = (await client.metrics_after(trained))["cost"]["pairs"]["sq"]
    assert abs(cost - squared_cost(x0, x1)) <= 1e-6 * cost, "the scene's x1 changed"


def squared_cost(x0: Any, x1: Any) -> float:
    """E‖x1 − x0‖² over pairs i ↔ i: what a metrics message reports as cost.pairs.sq for a round that trains on
    the scene's own pairs, so a client can check which x1 the server holds."""
    difference = np.asarray(x1, dtype=np.float32).astype(np.float64) - np.asarray(x0, dtype=np.float32)
    return float(np.square(np.linalg.norm(difference, axis=1)).mean())

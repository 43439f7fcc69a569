"""A small websockets client for the hosting tests: JSON messages in, snapshots' binary frames skipped."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TIMEOUT = 10.0
SMALL_SCENE = {"kind": "preset", "source": "gaussian", "target": "moons", "n": 32, "seed": 0}
SMALL_NET = {"width": 16, "depth": 2}


async def open_socket(url: str, **headers: str) -> ClientConnection:
    return await connect(url, max_size=None, compression=None, additional_headers=headers or None)


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def wait_for(ws: ClientConnection, kind: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The next JSON message of type `kind`; fails on any other error message."""
    async with asyncio.timeout(timeout):
        while True:
            raw = await ws.recv()
            if isinstance(raw, bytes):
                continue
            message = json.loads(raw)
            if message["type"] == kind:
                return message
            assert message["type"] != "error", f"unexpected error while waiting for {kind}: {message}"


async def hello(ws: ClientConnection, **fields: Any) -> dict[str, Any]:
    await send(ws, {"type": "hello", "protocol": 1, "scene": SMALL_SCENE, "config": SMALL_NET, **fields})
    return await wait_for(ws, "ready")


async def refusal(ws: ClientConnection, timeout: float = TIMEOUT) -> tuple[list[dict[str, Any]], int, str]:
    """Read until the server closes: the error messages it sent, the close code and the reason."""
    errors: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                raw = await ws.recv()
                if isinstance(raw, str) and json.loads(raw)["type"] == "error":
                    errors.append(json.loads(raw))
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the connection dropped without a close frame"
        return errors, closed.rcvd.code, closed.rcvd.reason

"""The live websocket: one connection's loop (refusals, limits, silence), and its handler for each client message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from rftoy.api.guard import RateLimit
from rftoy.api.hub import Hub
from rftoy.api.outbox import Outbox
from rftoy.api.telemetry import log_event
from rftoy.engine import data
from rftoy.live.session import Session
from rftoy.protocol import (
    CLIENT_MESSAGES,
    CLOSE_GOING_AWAY,
    CLOSE_INTERNAL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    NET_FIELDS,
    Ack,
    AddPair,
    Distill,
    Edit,
    Hello,
    Ping,
    ProtocolError,
    Reflow,
    RemovePair,
    Reset,
    SetConfig,
    clip,
    defaults,
    dumps,
    error_message,
    limits_of,
    parse_client_message,
)
from rftoy.protocol.server import pong_message, ready_message
from rftoy.settings import Settings


class Connection:
    """One client's connection: its outbox, and its session once it said hello."""

    def __init__(self, hub: Hub, outbox: Outbox, client: str) -> None:
        self.hub = hub
        self.outbox = outbox
        self.client = client
        self.session: Session | None = None

    async def dispatch(self, message: Any) -> None:
        if self.session is None and not isinstance(message, Ping | Hello):
            raise ProtocolError("state", f"send hello before {message.type}", message.type)
        await HANDLERS[type(message)](self, message)

    async def pong(self, message: Ping) -> None:
        self.outbox.send(pong_message(message.nonce, time.time()))

    async def hello(self, message: Hello) -> None:
        if self.session is not None:
            raise ProtocolError("state", "this connection already said hello", "hello")
        session = self.session = await self.hub.open_session(message, self.outbox, self.client)
        self.outbox.window = message.snapshot_window
        self.outbox.send(ready_message(session_id=session.id, limits=limits_of(self.hub.settings),
                                       presets=list(data.PRESETS), defaults=defaults(),
                                       scene=session.scene_message(), config=session.config))
        session.start()
        session.task.add_done_callback(self._on_session_end)

    async def ack(self, message: Ack) -> None:
        self.outbox.ack(message.seq)

    async def command(self, message: Any) -> None:
        """A message for the session; those that restart or add training first take from the client's bucket."""
        assert self.session is not None
        if _costly(message) and (wait_s := self.hub.costly.take(self.client)) is not None:
            raise ProtocolError("rate_limited", f"more than {self.hub.settings.costly_per_minute} reflows, distills, "
                                f"resets and new nets per minute from your address; try again in {wait_s:.0f} s",
                                message.type)
        await self.session.handle(message)
        if isinstance(message, Edit | AddPair | RemovePair):
            self.outbox.note_edit(message.seq)

    def _on_session_end(self, task: asyncio.Task[None]) -> None:
        """A session task ends only when cancelled, or on a bug: then the client is told and the socket closed."""
        if not task.cancelled() and task.exception() is not None:
            log_event("session_error", session=task.get_name().removeprefix("session-"),
                      error=repr(task.exception()))
            self.outbox.send(error_message(ProtocolError("internal", "the session failed on the server; reconnect "
                                                         "to start a new one")))
            self.outbox.close_after_sending(CLOSE_INTERNAL, "session failed")


Handler = Callable[[Connection, Any], Awaitable[None]]
# The connection answers these itself; every other client message is a command for the session.
CONNECTION_HANDLERS: dict[type, Handler] = {Ping: Connection.pong, Hello: Connection.hello, Ack: Connection.ack}
HANDLERS: dict[type, Handler] = {model: CONNECTION_HANDLERS.get(model, Connection.command)
                                 for model in CLIENT_MESSAGES.values()}


def _costly(message: Any) -> bool:
    """Messages that restart or add training: a new round, a distillation, a reset, a new net."""
    return isinstance(message, Reflow | Distill | Reset) or (
        isinstance(message, SetConfig) and bool(NET_FIELDS & message.config.changes().keys()))


async def serve_socket(websocket: WebSocket, hub: Hub) -> None:
    """One connection: refuse it (origin, full), then read messages until the client leaves or idles, then end."""
    settings = hub.settings
    client = websocket.client.host if websocket.client else "unknown"
    await websocket.accept()
    refusal = hub.refusal(websocket, client)
    if refusal is not None:
        error, code = refusal
        hub.telemetry.refused_total += 1
        log_event("session_refused", client=client, code=error.code, reason=error.message)
        await websocket.send_text(dumps(error_message(error)))
        await websocket.close(code, error.code.replace("_", " "))
        return
    hub.connections += 1
    hub.clients.add(client)
    outbox = Outbox(settings, hub.telemetry)
    connection = Connection(hub, outbox, client)
    sender = asyncio.create_task(outbox.pump(websocket))
    limit = RateLimit(settings.max_messages_per_second, settings.message_burst)
    opened = active = time.monotonic()
    ended = "client left"
    try:
        while not sender.done():
            opening = connection.session is None
            deadline = opened + settings.hello_timeout_s if opening else active + settings.idle_timeout_s
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):  # no task per message
                    frame = await websocket.receive()
            except TimeoutError:
                ended = await _close_for_silence(websocket, connection.session, outbox, sender, settings)
                break
            if frame["type"] == "websocket.disconnect":
                break
            close = _close_reason(frame, limit, outbox, settings)
            if close is not None:
                ended = close[1]
                await websocket.close(*close)
                break
            try:
                message = await _parse(frame.get("text"), hub)
                await connection.dispatch(message)
                if opening and (session := connection.session) is not None:
                    hub.telemetry.sessions_total += 1
                    log_event("session_start", session=session.id, client=client, points=len(session.x0),
                              net=[session.config.width, session.config.depth], sessions=len(hub.sessions))
                if not isinstance(message, Ping | Ack):
                    active = time.monotonic()
            except ProtocolError as error:
                outbox.send(error_message(error))
    except WebSocketDisconnect:
        pass
    except Exception as error:  # a bug or a failing store: the client is told, the log holds one line, no traceback
        ended = "server error"
        log_event("connection_error", client=client, error=clip(repr(error)))
        outbox.send(error_message(ProtocolError("internal", "the server failed on this message; reconnect to "
                                                "start again")))
        outbox.close_after_sending(CLOSE_INTERNAL, "server error")
        await asyncio.wait([sender], timeout=5)
    finally:
        if (session := connection.session) is not None:
            await session.close()
            hub.sessions.pop(session.id, None)
            log_event("session_end", session=session.id, client=client, reason=ended,
                      duration_s=round(time.monotonic() - opened, 2), edits=session.edits,
                      snapshots=session.snapshots, steps=session.steps, rounds=session.most_rounds,
                      errors=outbox.errors)
        sender.cancel()
        await asyncio.wait([sender])
        if not sender.cancelled():
            sender.exception()  # a send to a socket the client already closed: nothing left to tell it
        hub.connections -= 1
        hub.clients.remove(client)


async def _parse(text: str | None, hub: Hub) -> Any:
    """A text frame as a client message; a large one (a scene) is parsed in a thread, so the loop stays free."""
    if text is None:
        raise ProtocolError("binary", "binary frames are not accepted; send JSON text messages")
    if len(text) > hub.settings.parse_on_loop_chars:
        return await asyncio.get_running_loop().run_in_executor(hub.parser, parse_client_message, text, hub.settings)
    return parse_client_message(text, hub.settings)


async def _close_for_silence(websocket: WebSocket, session: Session | None, outbox: Outbox,
                             sender: asyncio.Task[None], settings: Settings) -> str:
    """Close a connection that sent no hello in time (1008), or a session idle too long (error idle, 1001)."""
    if session is None:
        reason = f"no hello within {settings.hello_timeout_s:g} s"
        await websocket.close(CLOSE_POLICY, reason)
        return reason
    reason = f"idle for {settings.idle_timeout_s:g} s"
    outbox.send(error_message(ProtocolError("idle", f"no edit or command for {settings.idle_timeout_s:g} s; the "
                                            "session was closed to free the server; reload to start a new one")))
    outbox.close_after_sending(CLOSE_GOING_AWAY, reason)
    await asyncio.wait([sender], timeout=5)
    return reason


def _close_reason(frame: dict[str, Any], limit: RateLimit, outbox: Outbox,
                  settings: Settings) -> tuple[int, str] | None:
    size = len(frame["bytes"]) if frame.get("bytes") is not None else len((frame.get("text") or "").encode())
    if size > settings.max_message_bytes:
        return CLOSE_TOO_BIG, f"message of {size} bytes is over the limit of {settings.max_message_bytes}"
    if not limit.take():
        return CLOSE_POLICY, (f"flood: more than {settings.message_burst} messages at once or "
                              f"{settings.max_messages_per_second} per second")
    flooded = outbox.overflowing
    return None if flooded is None else (CLOSE_POLICY, flooded)

"""FastAPI app: the page (web/), the WGSL files (shaders/), the live websocket at /ws, and the HTTP API.

Everything is served under `settings.root_path` (a proxy's sub-path) as well as at the root.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

import torch
import uvicorn
from fastapi import FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from rftoy.api.guard import ClientBuckets, ClientCounts, RateLimit, origin_allowed
from rftoy.api.http_guard import gate_of, guarded_protocol
from rftoy.api.store import SceneStore, StoreUnavailable
from rftoy.api.telemetry import Telemetry, log_event, show_events
from rftoy.engine import data
from rftoy.engine.device import resolve_device
from rftoy.engine.threads import inherit_torch_threads, start_metrics_thread
from rftoy.live.chunk import Snapshot
from rftoy.live.scheduler import BatchedTrainer
from rftoy.live.session import Session, materialize
from rftoy.protocol import (
    MAX_SCENE_ID_CHARS,
    NET_FIELDS,
    PROTOCOL_VERSION,
    Ack,
    AddPair,
    Config,
    Distill,
    Edit,
    Hello,
    Ping,
    PresetScene,
    ProtocolError,
    Reflow,
    RemovePair,
    Reset,
    SceneBody,
    SetConfig,
    clip,
    defaults,
    dumps,
    echo,
    encode_frame,
    error_message,
    limits_of,
    parse_client_message,
    points_scene,
    problems,
    validate_patch,
    validate_scene,
)
from rftoy.settings import Settings, get_settings

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
CLOSE_TRY_LATER = 1013
MAX_TRACKED_EDITS = 256
MAX_HTTP_PROBLEMS = 8
Endpoint = Callable[..., Any]
WS_MAX_QUEUE = 4  # received messages uvicorn holds per connection before it stops reading (each up to 1 MiB)
PLACEHOLDER = ("<!doctype html><title>rftoy</title><p>rftoy server is running; the page (web/index.html) is not "
               "built yet. See <a href='/docs'>/docs</a> for the API.</p>")
SCENE_BODY_SCHEMA = {
    "type": "object", "required": ["scene"],
    "properties": {"scene": {"type": "object", "description": "a Scene (docs/protocol.md): preset or points"},
                   "config": {"type": "object", "description": "an optional Config patch"}},
}


class Outbox:
    """What one connection still has to send: replies in order, and only the newest metrics and snapshot.

    With a snapshot window (hello.snapshot_window), at most that many sent snapshots may be unacknowledged;
    the next one waits in the slot (and is replaced by newer ones) until the client acks. Replies are kept as
    their JSON text, bounded in count and in bytes: past either bound the connection is flooded (closed on the
    client's next message) and further replies are dropped, so a client that does not read costs little memory.
    """

    def __init__(self, max_replies: int, max_bytes: int, telemetry: Telemetry) -> None:
        self.telemetry = telemetry
        self.edits_at: deque[tuple[int, float]] = deque(maxlen=MAX_TRACKED_EDITS)
        self.errors = 0
        self.replies: deque[str] = deque()
        self.unsent_bytes = 0
        self.metrics: dict[str, Any] | None = None
        self.snapshot: Snapshot | None = None
        self.max_replies = max_replies
        self.max_bytes = max_bytes
        self.ready = asyncio.Event()
        self.closing: tuple[int, str] | None = None
        self.window: int | None = None
        self.sent_seq = 0
        self.acked_seq = 0

    @property
    def overflowing(self) -> str | None:
        """Why the unsent replies are over their bound (the close reason), or None."""
        if len(self.replies) > self.max_replies:
            return f"flood: more than {self.max_replies} replies left unread"
        if self.unsent_bytes > self.max_bytes:
            return f"flood: more than {self.max_bytes} bytes of replies left unread"
        return None

    def note_edit(self, seq: int) -> None:
        """An edit arrived: the first snapshot that applies it gives its drag → update latency."""
        self.edits_at.append((seq, time.perf_counter()))

    def _measure(self, applied_seq: int | None) -> None:
        now = time.perf_counter()
        while self.edits_at and applied_seq is not None and self.edits_at[0][0] <= applied_seq:
            self.telemetry.record_latency(now - self.edits_at.popleft()[1])

    def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "error":
            self.errors += 1
        if message["type"] == "metrics":
            self.metrics = message
        elif self.overflowing is None:
            text = dumps(message)
            self.replies.append(text)
            self.unsent_bytes += len(text)
        self.ready.set()

    def offer(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.ready.set()

    def ack(self, seq: int) -> None:
        if seq > self.sent_seq:
            raise ProtocolError("invalid", f"ack.seq: snapshot {seq} has not been sent yet (last sent: "
                                f"{self.sent_seq})", "ack")
        self.acked_seq = max(self.acked_seq, seq)
        self.ready.set()

    def _may_send_snapshot(self) -> bool:
        return self.window is None or self.sent_seq - self.acked_seq < self.window

    def close_after_sending(self, code: int, reason: str) -> None:
        self.closing = (code, reason)
        self.ready.set()

    async def pump(self, websocket: WebSocket) -> None:
        """Send until cancelled or closing; a snapshot goes as its JSON message followed at once by its frames."""
        while self.closing is None or self.replies:
            await self.ready.wait()
            self.ready.clear()
            while self.replies:
                text = self.replies.popleft()
                self.unsent_bytes -= len(text)
                await websocket.send_text(text)
            if self.metrics is not None:
                metrics, self.metrics = self.metrics, None
                await websocket.send_text(dumps(metrics))
            if self.snapshot is not None and self._may_send_snapshot():
                snapshot, self.snapshot = self.snapshot, None
                self.sent_seq = snapshot.meta["seq"]
                self.telemetry.snapshots.add()
                self._measure(snapshot.meta["applied_seq"])
                await websocket.send_text(dumps(snapshot.meta))
                for kind, array in snapshot.arrays:
                    await websocket.send_bytes(encode_frame(kind, snapshot.meta["seq"], array))
        await websocket.close(*self.closing)


class Hub:
    """Everything the app shares across connections."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.device = resolve_device(settings.device)
        self.store = SceneStore(settings.database, settings.max_saved_scenes,
                                settings.saved_scene_days * 86400 or None)
        self.pool = ThreadPoolExecutor(max_workers=settings.train_workers or os.cpu_count() or 1,
                                       thread_name_prefix="rftoy-train", initializer=inherit_torch_threads)
        # One thread parses every large message, one at a time: however many arrive, the event loop shares the GIL
        # with one parser only, and only one large message is held as Python objects at once.
        self.parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rftoy-parse")
        self.metrics_pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="rftoy-metrics",
                                               initializer=start_metrics_thread)
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # its first use loads ~2 s of torch machinery
        workers = settings.batched_workers or max(1, (os.cpu_count() or 1) - 1)
        self.batched = (BatchedTrainer(workers, settings.max_tick_rows)
                        if settings.trainer == "batched" else None)
        self.connections = 0
        self.clients = ClientCounts(settings.max_sessions_per_client)
        self.saves = ClientBuckets(settings.scene_saves_per_minute / 60, settings.scene_saves_per_minute)
        self.costly = ClientBuckets(settings.costly_per_minute / 60, settings.costly_burst)
        self.telemetry = Telemetry(settings.metrics_window_s)
        self.sessions: dict[str, Session] = {}

    def refusal(self, websocket: WebSocket, client: str) -> tuple[ProtocolError, int] | None:
        """Why a new connection may not have a session (an error and its close code), or None."""
        settings = self.settings
        origin = websocket.headers.get("origin")
        if not origin_allowed(origin, websocket.headers.get("host"), settings.allowed_origins):
            return ProtocolError("origin", f"pages from {echo(origin)} may not connect to this server"), CLOSE_POLICY
        if self.connections >= settings.max_sessions:
            return ProtocolError("server_full", f"the server already runs {settings.max_sessions} sessions; "
                                 "try again later"), CLOSE_TRY_LATER
        if not self.clients.has_room(client):
            return ProtocolError("too_many_sessions", f"your address already has {settings.max_sessions_per_client} "
                                 "sessions open; close a tab and try again"), CLOSE_TRY_LATER
        return None

    async def open_session(self, hello: Hello, outbox: Outbox, client: str) -> Session:
        config = Config()
        scene = hello.scene
        if hello.scene_id is not None:
            try:
                saved = await asyncio.to_thread(self.store.load, hello.scene_id)
            except StoreUnavailable:
                raise ProtocolError("unavailable", "saved scenes cannot be read just now; try again shortly",
                                    "hello") from None
            if saved is None:
                raise ProtocolError("not_found", f"no saved scene with id {hello.scene_id!r}", "hello")
            try:
                scene = validate_scene(saved["scene"], self.settings)
                config = validate_patch(saved["config"], self.settings).apply(config)
            except ValidationError as error:
                raise ProtocolError("invalid", f"saved scene {hello.scene_id!r} exceeds this server's limits: "
                                    f"{problems(error)[0]['msg']}", "hello") from None
        if scene is None:
            scene = validate_scene({"kind": "preset", "n": min(PresetScene().n, self.settings.max_points)},
                                   self.settings)
        if hello.config is not None:
            config = hello.config.apply(config)
        session = Session(self.settings, self.device, self.pool, scene, config, outbox.send, outbox.offer,
                          self.telemetry.steps.add, self.batched, self.metrics_pool)
        session.client = client
        self.sessions[session.id] = session
        return session

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in list(self.sessions.values())))
        if self.batched is not None:
            self.batched.close()
        self.pool.shutdown(wait=True)
        self.parser.shutdown(wait=True)
        self.metrics_pool.shutdown(wait=True)
        self.store.close()


def ready_message(session: Session, settings: Settings) -> dict[str, Any]:
    return {"type": "ready", "protocol": PROTOCOL_VERSION, "session_id": session.id, "limits": limits_of(settings),
            "presets": list(data.PRESETS), "defaults": defaults(), "scene": session.scene_message(),
            "config": session.config.model_dump()}


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
    outbox = Outbox(settings.max_unread_replies, settings.max_unread_bytes, hub.telemetry)
    sender = asyncio.create_task(outbox.pump(websocket))
    limit = RateLimit(settings.max_messages_per_second, settings.message_burst)
    session: Session | None = None
    opened = active = time.monotonic()
    ended = "client left"
    try:
        while not sender.done():
            deadline = active + settings.idle_timeout_s if session is not None else opened + settings.hello_timeout_s
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):  # no task per message
                    frame = await websocket.receive()
            except TimeoutError:
                ended = await _close_for_silence(websocket, session, outbox, sender, settings)
                break
            if frame["type"] == "websocket.disconnect":
                break
            close = _close_reason(frame, limit, outbox, settings)
            if close is not None:
                ended = close[1]
                await websocket.close(*close)
                break
            text = frame.get("text")
            try:
                if text is None:
                    raise ProtocolError("binary", "binary frames are not accepted; send JSON text messages")
                if len(text) > settings.parse_on_loop_chars:  # a large scene: parsed in a thread, the loop stays free
                    message = await asyncio.get_running_loop().run_in_executor(hub.parser, parse_client_message,
                                                                               text, settings)
                else:
                    message = parse_client_message(text, settings)
                opening = session is None
                session = await _dispatch(message, session, hub, outbox, client)
                if opening and session is not None:
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
        if session is not None:
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


def _costly(message: Any) -> bool:
    """Messages that restart or add training: a new round, a distillation, a reset, a new net."""
    return isinstance(message, Reflow | Distill | Reset) or (
        isinstance(message, SetConfig) and bool(NET_FIELDS & message.config.changes().keys()))


async def _dispatch(message: Any, session: Session | None, hub: Hub, outbox: Outbox,
                    client: str) -> Session | None:
    if isinstance(message, Ping):
        outbox.send({"type": "pong", "nonce": message.nonce, "time": time.time()})
    elif isinstance(message, Hello):
        if session is not None:
            raise ProtocolError("state", "this connection already said hello", "hello")
        session = await hub.open_session(message, outbox, client)
        outbox.window = message.snapshot_window
        outbox.send(ready_message(session, hub.settings))
        session.start()
        session.task.add_done_callback(lambda task: _on_session_end(task, outbox))
    elif session is None:
        raise ProtocolError("state", f"send hello before {message.type}", message.type)
    elif isinstance(message, Ack):
        outbox.ack(message.seq)
    else:
        if _costly(message) and (wait_s := hub.costly.take(client)) is not None:
            raise ProtocolError("rate_limited", f"more than {hub.settings.costly_per_minute} reflows, distills, "
                                f"resets and new nets per minute from your address; try again in {wait_s:.0f} s",
                                message.type)
        await session.handle(message)
        if isinstance(message, Edit | AddPair | RemovePair):
            outbox.note_edit(message.seq)
    return session


def _on_session_end(task: asyncio.Task[None], outbox: Outbox) -> None:
    """A session task ends only when cancelled, or on a bug: then the client is told and the socket closed."""
    if not task.cancelled() and task.exception() is not None:
        log_event("session_error", session=task.get_name().removeprefix("session-"), error=repr(task.exception()))
        outbox.send(error_message(ProtocolError("internal", "the session failed on the server; reconnect to start "
                                                "a new one")))
        outbox.close_after_sending(CLOSE_INTERNAL, "session failed")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body of {declared} bytes is over the limit of {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"body is over the limit of {limit} bytes")
    return bytes(body)


class SubPath:
    """ASGI wrapper for serving under `root_path` (e.g. /demo) behind a proxy that keeps or strips the prefix.

    Requests arrive as /demo/... (kept) or /... (stripped); both reach the same routes. The bare /demo redirects
    to /demo/, so the page's relative URLs resolve under the sub-path.
    """

    def __init__(self, app: ASGIApp, root_path: str) -> None:
        self.app = app
        self.root_path = root_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.root_path or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == self.root_path and scope["type"] == "http":
            await _redirect(send, self.root_path + "/", scope.get("query_string", b""))
            return
        if not path.startswith(self.root_path + "/"):
            prefix = self.root_path.encode()
            raw_path = prefix + (scope.get("raw_path") or path.encode())
            scope = dict(scope, path=self.root_path + path, raw_path=raw_path)
        await self.app(dict(scope, root_path=self.root_path), receive, send)


async def _redirect(send: Send, location: str, query: bytes) -> None:
    target = location.encode("latin-1") + (b"?" + query if query else b"")
    await send({"type": "http.response.start", "status": 307,
                "headers": [(b"location", target), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def get_and_head(app: FastAPI, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """Route GET and HEAD (headers only, left out of the OpenAPI schema) to one endpoint."""

    def register(endpoint: Endpoint) -> Endpoint:
        app.add_api_route(path, endpoint, methods=["GET"], **options)
        app.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False)
        return endpoint

    return register


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app on `settings` (the environment's by default)."""
    settings = settings or get_settings()
    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    hub = Hub(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # What exists by now (torch, FastAPI, pydantic: some 300,000 objects) stays for the server's life: left out
        # of the cyclic collector's full passes, which took up to 0.2 s each with the GIL held while sessions started.
        gc.freeze()
        yield
        await hub.close()
        gc.unfreeze()

    app = FastAPI(title="rftoy", version=str(PROTOCOL_VERSION), lifespan=lifespan,
                  description="Rectified Flow playground. The live protocol at /ws is described in docs/protocol.md.")
    app.state.hub = hub
    app.add_middleware(SubPath, root_path=settings.root_path)

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(request: Request, error: StoreUnavailable) -> JSONResponse:
        log_event("store_unavailable", error=str(error))
        return JSONResponse({"detail": "saved scenes are unavailable just now; try again shortly"}, 503,
                            {"Retry-After": "5"})

    @get_and_head(app, "/api/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "device": str(hub.device), "torch": torch.__version__, "sessions": len(hub.sessions),
                "max_sessions": settings.max_sessions, "protocol": PROTOCOL_VERSION}

    @get_and_head(app, "/api/metrics")
    async def server_metrics() -> dict[str, Any]:
        """Live sessions, snapshots and training steps per second, and the server-side drag → update latency.

        Async on purpose: the counters are only touched on the event loop (the store is asked in a thread)."""
        saved = await asyncio.to_thread(hub.store.count)
        found = hub.telemetry.summary(len(hub.sessions), hub.connections) | {"saved_scenes": saved}
        if hub.batched is not None:
            found["batched_trainer"] = asdict(hub.batched.stats())
        return found

    @get_and_head(app, "/api/presets")
    def presets() -> dict[str, list[str]]:
        return {"presets": list(data.PRESETS)}

    @app.post("/api/scenes", openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": SCENE_BODY_SCHEMA}}}})
    async def save_scene(request: Request) -> dict[str, str]:
        """Save a scene and config for a share link; the scene is stored as explicit points."""
        client = request.client.host if request.client else "unknown"
        wait_s = hub.saves.take(client)
        if wait_s is not None:
            raise HTTPException(429, f"more than {settings.scene_saves_per_minute} saved scenes per minute from "
                                "your address; try again shortly", {"Retry-After": str(max(1, round(wait_s)))})
        body = await _read_body(request, settings.max_message_bytes)
        try:
            raw = SceneBody.model_validate_json(body)
            scene = validate_scene(raw.scene, settings)
            config = validate_patch(raw.config or {}, settings).apply(Config())
        except ValidationError as error:
            raise HTTPException(422, problems(error)[:MAX_HTTP_PROBLEMS]) from None
        x0, x1, source, target = materialize(scene)
        text = hub.store.encode({"scene": points_scene(x0.tolist(), x1.tolist(), source, target),
                                 "config": config.model_dump()})
        if len(text) > settings.max_scene_bytes:
            raise HTTPException(413, f"the scene takes {len(text)} bytes as saved points, over the limit of "
                                f"{settings.max_scene_bytes}; use fewer points")
        return {"id": await asyncio.to_thread(hub.store.save, text)}

    @get_and_head(app, "/api/scenes/{scene_id}")
    async def load_scene(scene_id: str) -> dict[str, Any]:
        saved = await asyncio.to_thread(hub.store.load, scene_id) if len(scene_id) <= MAX_SCENE_ID_CHARS else None
        if saved is None:
            raise HTTPException(404, f"no saved scene with id {echo(scene_id)}")
        return saved

    @app.websocket("/ws")
    async def live(websocket: WebSocket) -> None:
        await serve_socket(websocket, hub)

    @get_and_head(app, "/", include_in_schema=False)
    def index() -> Any:
        page = settings.web_dir / "index.html"
        return FileResponse(page) if page.is_file() else HTMLResponse(PLACEHOLDER)

    if settings.shaders_dir.is_dir():
        app.mount("/shaders", StaticFiles(directory=settings.shaders_dir), name="shaders")
    if settings.web_dir.is_dir():
        app.mount("/", StaticFiles(directory=settings.web_dir), name="web")
    return app


def uvicorn_config(app: FastAPI, settings: Settings, log_level: str = "info") -> uvicorn.Config:
    """uvicorn on the settings: the websocket frame limit, no per-message compression (floats), proxy headers,
    and the HTTP guards of rftoy.api.http_guard (header size and deadline, connections per address)."""
    gate = gate_of(settings)
    app.state.gate = gate
    return uvicorn.Config(app, host=settings.host, port=settings.port, ws_max_size=settings.max_message_bytes,
                          ws_per_message_deflate=False, log_level=log_level, proxy_headers=settings.proxy_headers,
                          forwarded_allow_ips=settings.forwarded_allow_ips, http=guarded_protocol(gate),
                          ws_max_queue=WS_MAX_QUEUE)


def run_server(**overrides: Any) -> None:
    """`rftoy serve`: the app on the environment's settings with the given overrides (host, port, device)."""
    settings = Settings(**overrides)
    try:
        app = create_app(settings)
    except RuntimeError as error:
        raise SystemExit(f"rftoy: {error}") from None
    show_events()
    uvicorn.Server(uvicorn_config(app, settings)).run()

"""What the app shares across connections: the trainer and its threads, the store, the guards and the sessions."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import torch
from fastapi import WebSocket
from pydantic import ValidationError

from rftoy.api.guard import ClientBuckets, ClientCounts, origin_allowed
from rftoy.api.outbox import Outbox
from rftoy.api.store import SceneStore, StoreUnavailable
from rftoy.api.telemetry import Telemetry
from rftoy.engine.device import resolve_device
from rftoy.engine.threads import inherit_torch_threads, start_metrics_thread
from rftoy.live.scheduler import BatchedTrainer
from rftoy.live.session import Session
from rftoy.protocol import (
    CLOSE_POLICY,
    CLOSE_TRY_LATER,
    Config,
    Hello,
    PresetScene,
    ProtocolError,
    echo,
    problems,
    validate_patch,
    validate_scene,
)
from rftoy.settings import Settings


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
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # its first use loads seconds of torch machinery
        workers = settings.batched_workers or max(1, (os.cpu_count() or 1) - 1)
        self.batched = (BatchedTrainer(workers, settings.max_tick_rows)
                        if settings.trainer == "batched" else None)
        self.connections = 0
        self.clients = ClientCounts(settings.max_sessions_per_client)
        self.saves = ClientBuckets(settings.scene_saves_per_minute / 60, settings.scene_saves_per_minute,
                                   settings.max_tracked_clients)
        self.costly = ClientBuckets(settings.costly_per_minute / 60, settings.costly_burst,
                                    settings.max_tracked_clients)
        self.telemetry = Telemetry(settings.metrics_window_s, settings.latency_samples)
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

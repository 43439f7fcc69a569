"""The app: the page (web/), the WGSL files (shaders/), the live websocket at /ws, and the HTTP API, wired on
the settings (rftoy.api.routes, .socket, .hub); and uvicorn to serve it.

Everything is served under `settings.root_path` (a proxy's sub-path) as well as at the root.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import torch
import uvicorn
from fastapi import FastAPI

from rftoy.api.http_guard import gate_of, guarded_protocol
from rftoy.api.hub import Hub
from rftoy.api.routes import add_routes
from rftoy.api.subpath import SubPath
from rftoy.api.telemetry import show_events
from rftoy.protocol import PROTOCOL_VERSION
from rftoy.settings import Settings, get_settings

__all__ = ["Hub", "create_app", "run_server", "uvicorn_config"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app on `settings` (the environment's by default)."""
    settings = settings or get_settings()
    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    hub = Hub(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # What exists by now (torch, FastAPI, pydantic: some 300,000 objects) stays for the server's life: left out
        # of the cyclic collector's full passes, which held the GIL long enough to stall starting sessions.
        gc.freeze()
        yield
        await hub.close()
        gc.unfreeze()

    app = FastAPI(title="rftoy", version=str(PROTOCOL_VERSION), lifespan=lifespan,
                  description="Rectified Flow playground. The live protocol at /ws is described in docs/protocol.md.")
    app.state.hub = hub
    app.add_middleware(SubPath, root_path=settings.root_path)
    add_routes(app, settings)
    return app


def uvicorn_config(app: FastAPI, settings: Settings, log_level: str = "info") -> uvicorn.Config:
    """uvicorn on the settings: the websocket frame limit and queue, no per-message compression (floats), proxy
    headers, and the HTTP guards of rftoy.api.http_guard (header size and deadline, connections per address)."""
    gate = gate_of(settings)
    app.state.gate = gate
    return uvicorn.Config(app, host=settings.host, port=settings.port, ws_max_size=settings.max_message_bytes,
                          ws_per_message_deflate=False, log_level=log_level, proxy_headers=settings.proxy_headers,
                          forwarded_allow_ips=settings.forwarded_allow_ips, http=guarded_protocol(gate),
                          ws_max_queue=settings.ws_max_queue)


def run_server(**overrides: Any) -> None:
    """`rftoy serve`: the app on the environment's settings with the given overrides (host, port, device)."""
    settings = Settings(**overrides)
    try:
        app = create_app(settings)
    except RuntimeError as error:
        raise SystemExit(f"rftoy: {error}") from None
    show_events()
    uvicorn.Server(uvicorn_config(app, settings)).run()

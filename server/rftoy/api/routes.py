"""The HTTP API (health, metrics, presets, saved scenes), the live websocket's route, and the page's files."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any

import torch
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, WebSocket
from fastapi.requests import HTTPConnection
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from rftoy.api.hub import Hub
from rftoy.api.socket import serve_socket
from rftoy.api.store import StoreUnavailable
from rftoy.api.telemetry import log_event
from rftoy.engine import data
from rftoy.live.scene import materialize
from rftoy.protocol import (
    MAX_SCENE_ID_CHARS,
    PROTOCOL_VERSION,
    Config,
    SceneBody,
    echo,
    problems,
    validate_patch,
    validate_scene,
)
from rftoy.settings import Settings

Endpoint = Callable[..., Any]
PLACEHOLDER = ("<!doctype html><title>rftoy</title><p>rftoy server is running; the page (web/index.html) is not "
               "built yet. See <a href='/docs'>/docs</a> for the API.</p>")
SCENE_BODY_SCHEMA = {
    "type": "object", "required": ["scene"],
    "properties": {"scene": {"type": "object", "description": "a Scene (docs/protocol.md): preset or points"},
                   "config": {"type": "object", "description": "an optional Config patch"}},
}


async def get_hub(connection: HTTPConnection) -> Hub:
    """The app's hub (async, so FastAPI calls it on the event loop rather than in a worker thread)."""
    return connection.app.state.hub


HubDep = Annotated[Hub, Depends(get_hub)]
router = APIRouter()


def get_and_head(path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """Route GET and HEAD (headers only, left out of the OpenAPI schema) to one endpoint."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(path, endpoint, methods=["GET"], **options)
        router.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False)
        return endpoint

    return register


@get_and_head("/api/health")
def health(hub: HubDep) -> dict[str, Any]:
    return {"status": "ok", "device": str(hub.device), "torch": torch.__version__, "sessions": len(hub.sessions),
            "max_sessions": hub.settings.max_sessions, "protocol": PROTOCOL_VERSION}


@get_and_head("/api/metrics")
async def server_metrics(hub: HubDep) -> dict[str, Any]:
    """Live sessions, snapshots and training steps per second, and the server-side drag → update latency.

    Async on purpose: the counters are only touched on the event loop (the store is asked in a thread)."""
    saved = await asyncio.to_thread(hub.store.count)
    found = hub.telemetry.summary(len(hub.sessions), hub.connections) | {"saved_scenes": saved}
    if hub.batched is not None:
        found["batched_trainer"] = asdict(hub.batched.stats())
    return found


@get_and_head("/api/presets")
def presets() -> dict[str, list[str]]:
    return {"presets": list(data.PRESETS)}


@router.post("/api/scenes", openapi_extra={"requestBody": {"required": True, "content": {
    "application/json": {"schema": SCENE_BODY_SCHEMA}}}})
async def save_scene(request: Request, hub: HubDep) -> dict[str, str]:
    """Save a scene and config for a share link; the scene is stored as explicit points."""
    settings = hub.settings
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
        raise HTTPException(422, problems(error)[:settings.max_http_problems]) from None
    text = hub.store.encode({"scene": materialize(scene).as_points(),
                             "config": config.model_dump()})
    if len(text) > settings.max_scene_bytes:
        raise HTTPException(413, f"the scene takes {len(text)} bytes as saved points, over the limit of "
                            f"{settings.max_scene_bytes}; use fewer points")
    return {"id": await asyncio.to_thread(hub.store.save, text)}


@get_and_head("/api/scenes/{scene_id}")
async def load_scene(scene_id: str, hub: HubDep) -> dict[str, Any]:
    saved = await asyncio.to_thread(hub.store.load, scene_id) if len(scene_id) <= MAX_SCENE_ID_CHARS else None
    if saved is None:
        raise HTTPException(404, f"no saved scene with id {echo(scene_id)}")
    return saved


@router.websocket("/ws")
async def live(websocket: WebSocket, hub: HubDep) -> None:
    await serve_socket(websocket, hub)


@get_and_head("/", include_in_schema=False)
def index(hub: HubDep) -> Any:
    page = hub.settings.web_dir / "index.html"
    return FileResponse(page) if page.is_file() else HTMLResponse(PLACEHOLDER)


async def store_unavailable(request: Request, error: Exception) -> JSONResponse:
    """Any route that finds the saved scenes' store unreachable: 503, try again shortly."""
    log_event("store_unavailable", error=str(error))
    return JSONResponse({"detail": "saved scenes are unavailable just now; try again shortly"}, 503,
                        {"Retry-After": "5"})


def add_routes(app: FastAPI, settings: Settings) -> None:
    """The routes above, then the page's folders: /shaders, and web/ at the root (last, as it matches anything)."""
    app.include_router(router)
    app.add_exception_handler(StoreUnavailable, store_unavailable)
    if settings.shaders_dir.is_dir():
        app.mount("/shaders", StaticFiles(directory=settings.shaders_dir), name="shaders")
    if settings.web_dir.is_dir():
        app.mount("/", StaticFiles(directory=settings.web_dir), name="web")


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

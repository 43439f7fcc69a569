"""A real uvicorn server on a loopback port, in a background thread, with small limits for fast tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from rftoy.app import Hub, create_app, uvicorn_config
from rftoy.settings import Settings

# Small nets and scenes keep every scenario to about a second on a shared 2-core machine.
SMALL_NET = {"width": 16, "depth": 2}


@dataclass
class LiveServer:
    settings: Settings
    hub: Hub
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.server.servers[0].sockets[0].getsockname()[1]

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "uvicorn did not stop"


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "device": "cpu", "database": tmp_path / "scenes.sqlite3",
                              "chunk_ms": 20.0, "converge_window": 20, "converge_tol": 0.02, "train_workers": 2,
                              "max_points": 512, "max_messages_per_second": 400}
    return Settings(**{**values, **overrides})


def start_server(settings: Settings) -> LiveServer:
    app = create_app(settings)
    server = uvicorn.Server(uvicorn_config(app, settings, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return LiveServer(settings, app.state.hub, server, thread)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with test settings plus overrides; all are stopped at the end of the test."""
    started: list[LiveServer] = []

    def run(**overrides: Any) -> LiveServer:
        live = start_server(make_settings(tmp_path, **overrides))
        started.append(live)
        return live

    yield run
    for live in started:
        if live.thread.is_alive():
            live.stop()


@pytest.fixture
def live(launch: Callable[..., LiveServer]) -> LiveServer:
    return launch()


"""Real uvicorn servers in background threads with hosting settings, for the hosting tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rftoy.app import Hub, create_app, uvicorn_config
from rftoy.settings import Settings


@dataclass
class Served:
    """A running server and the addresses to reach it."""

    settings: Settings
    hub: Hub
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.server.servers[0].sockets[0].getsockname()[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.settings.root_path}/ws"

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.base + path, timeout=10)

    def assert_healthy(self) -> None:
        """The server answers health and has no session or connection left over."""
        assert self.get("/api/health").json()["status"] == "ok"
        wait_until(lambda: self.hub.connections == 0 and not self.hub.sessions and not self.hub.clients.counts)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "uvicorn did not stop"


def hosting_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Defaults of a public server, with a private database, the CPU, and a small, quick-converging trainer."""
    values: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "device": "cpu", "database": tmp_path / "scenes.sqlite3",
                              "train_workers": 2, "converge_window": 20, "converge_tol": 0.02}
    return Settings(**{**values, **overrides})


def serve(settings: Settings) -> Served:
    app = create_app(settings)
    server = uvicorn.Server(uvicorn_config(app, settings, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-hosting", daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), timeout=10)
    assert thread.is_alive(), "uvicorn did not start"
    return Served(settings, app.state.hub, server, thread)


def wait_until(test: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for a condition (checked every 20 ms), failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)

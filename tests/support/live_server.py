"""Real uvicorn servers on loopback ports, in background threads, for the server, protocol, api and hosting tests.

`server_settings` is the one settings factory of the tests: a public server's defaults with a private database,
the CPU, two training threads and a quick convergence; each test directory's `server_overrides` fixture (the root
conftest's is empty) and each test's own overrides go on top.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rftoy.api.app import Hub, create_app, uvicorn_config
from rftoy.settings import Settings

QUICK = {"host": "127.0.0.1", "port": 0, "device": "cpu", "train_workers": 2, "converge_window": 20,
         "converge_tol": 0.02}


def server_settings(folder: Path, **overrides: Any) -> Settings:
    """Settings of a test server whose saved scenes live in `folder`."""
    return Settings(**{**QUICK, "database": folder / "scenes.sqlite3", **overrides})


@dataclass
class LiveServer:
    """A running server and the addresses to reach it."""

    settings: Settings
    hub: Hub
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.server.servers[0].sockets[0].getsockname()[1]

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.settings.root_path}/ws"

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.http_url + path, timeout=10)

    def metrics(self) -> dict[str, Any]:
        """GET /api/metrics: sessions, connections, step and snapshot counters, the batched trainer's figures."""
        return self.get("/api/metrics").json()

    def settled(self) -> bool:
        """No session and no connection left (as /api/metrics reports them)."""
        found = self.metrics()
        return found["sessions"] == 0 and found["connections"] == 0

    def assert_healthy(self, timeout: float = 30.0) -> None:
        """The server answers health and has no session, connection or per-address count left over (a closing
        session waits for its running chunk and measurement, which take seconds on a loaded machine)."""
        assert self.get("/api/health").json()["status"] == "ok"
        wait_until(self.settled, timeout)
        assert not self.hub.clients.counts, f"per-address session counts leaked: {self.hub.clients.counts}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "uvicorn did not stop"


def start_server(settings: Settings) -> LiveServer:
    app = create_app(settings)
    server = uvicorn.Server(uvicorn_config(app, settings, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), timeout=10)
    assert thread.is_alive(), "uvicorn did not start"
    return LiveServer(settings, app.state.hub, server, thread)


def launcher(settings_for: Callable[..., Settings]) -> Iterator[Callable[..., LiveServer]]:
    """For a fixture: a function that starts servers on `settings_for(**overrides)`; all stop at the end."""
    started: list[LiveServer] = []

    def run(**overrides: Any) -> LiveServer:
        live = start_server(settings_for(**overrides))
        started.append(live)
        return live

    yield run
    for live in started:
        if live.thread.is_alive():
            live.stop()


def wait_until(test: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for a condition (checked every 20 ms), failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)

"""`rftoy serve` in a subprocess on a free loopback port, for tests that need the real command line (the browser
tests, the install and image tests)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(base: str, process: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    """Until `base`/api/health says ok; fails with the server's stderr if it exits or does not answer in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}; its stderr:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/api/health", timeout=1) as response:
                if json.load(response)["status"] == "ok":
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server at {base} did not become healthy in {timeout} s; its stderr:\n{log.read_text()}")


def serve(folder: Path, **env: str) -> Iterator[str]:
    """`rftoy serve` on a free port with its own database in `folder` (stderr to a file there, read on failure,
    so the server never blocks on a full pipe); yields the base URL. `env`: extra RFTOY_ settings."""
    port = free_port()
    env = {**os.environ, "RFTOY_DATABASE": str(folder / "scenes.sqlite3"), "RFTOY_DEVICE": "cpu",
           "RFTOY_TORCH_THREADS": "1", **env}
    log = folder / "server-stderr.txt"
    with log.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "rftoy.cli", "serve", "--port", str(port)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()

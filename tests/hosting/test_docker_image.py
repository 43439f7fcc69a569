"""What can be checked of the Dockerfile without a Docker engine.

The image's files are laid out in a temporary /app as its COPY lines say, rftoy is pip-installed from there
(not editable), and the image's CMD and HEALTHCHECK run with the image's ENV on a free port.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from rftoy.api import healthcheck
from rftoy.settings import Settings
from served_process import free_port

REPO = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for raw in (REPO / "Dockerfile").read_text().splitlines():
        if raw.strip().startswith("#") and not current:
            continue
        current += raw.rstrip().removesuffix("\\") + " " if raw.rstrip().endswith("\\") else raw.strip()
        if not raw.rstrip().endswith("\\"):
            if current.strip():
                keyword, _, rest = current.strip().partition(" ")
                lines.append((keyword.upper(), rest.strip()))
            current = ""
    return lines


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in instructions():
        if keyword == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def one(keyword: str) -> str:
    found = [rest for k, rest in instructions() if k == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {found}"
    return found[0]


def test_the_image_is_cpu_by_default_non_root_and_its_port_agrees_with_the_app() -> None:
    assert one("FROM").startswith("python:3.11-slim")
    args = [rest for k, rest in instructions() if k == "ARG"]
    assert "TORCH_VARIANT=cpu" in args and any(a.startswith("TORCH_VERSION=") for a in args)
    assert any("download.pytorch.org/whl/${TORCH_VARIANT}" in rest for k, rest in instructions() if k == "RUN")
    assert one("USER") not in ("root", "0")
    env = image_env()
    assert one("EXPOSE") == env["PORT"] == str(Settings.model_fields["port"].default) == str(healthcheck.DEFAULT_PORT)
    assert json.loads(one("CMD")) == ["sh", "-c", 'exec rftoy serve --port "$PORT"']
    assert one("HEALTHCHECK").endswith('CMD ["python", "-m", "rftoy.api.healthcheck"]')
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert "*" in ignored and {"!server/", "!web/", "!shaders/"} <= set(ignored)


@pytest.fixture(scope="module")
def image_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A temporary /app laid out by the Dockerfile's COPY lines, and rftoy installed from it (not editable)."""
    root = tmp_path_factory.mktemp("image")
    app = root / "app"
    app.mkdir()
    for keyword, rest in instructions():
        if keyword == "COPY":
            *sources, dest = rest.split()
            for source in sources:
                target = app / dest / source if dest.endswith("/") else app / dest
                if (REPO / source).is_dir():
                    shutil.copytree(REPO / source, target, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(REPO / source, target)
    site = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(app)], check=True, cwd=root, capture_output=True, timeout=120)
    return app, site


def test_the_image_command_serves_the_installed_package_and_passes_its_health_check(image_root, tmp_path) -> None:
    app, site = image_root
    port = free_port()
    env = {name: value.replace("/app", str(app)).replace("/data", str(tmp_path))
           for name, value in image_env().items()}
    env.update(PORT=str(port), PATH=f"{site / 'bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin",
               PYTHONPATH=str(site), HOME=str(tmp_path))
    where = subprocess.run([sys.executable, "-c", "import rftoy.api.app; print(rftoy.api.app.__file__)"], env=env,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(site)), f"rftoy imported from {where}, not from the image's install"
    process = subprocess.Popen(json.loads(one("CMD")), env=env, cwd=app, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    check = one("HEALTHCHECK").split("CMD", 1)[1]
    try:
        deadline = time.monotonic() + 120  # importing the app alone took ~30 s on a loaded 2-core machine
        while subprocess.run(json.loads(check), env=env, capture_output=True).returncode != 0:
            assert process.poll() is None, f"the image's command exited: {process.stderr.read()}"
            assert time.monotonic() < deadline, "the health check did not pass within 120 s"
            time.sleep(0.2)
        health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).json()
        assert health["device"] == "cpu" and health["status"] == "ok"
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200 and 'src="main.js"' in page.text
        assert httpx.get(f"http://127.0.0.1:{port}/shaders/mlp.wgsl", timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert "Finished server process" in process.stderr.read(), "no graceful shutdown on SIGTERM (docker stop)"
    assert (tmp_path / "rftoy.sqlite3").exists()

"""Static paths cannot escape web/ or shaders/, however the path is spelled or encoded."""

from __future__ import annotations

import http.client

import pytest
from live_server import server_settings, start_server

ATTEMPTS = [
    "/../pyproject.toml",
    "/shaders/../../pyproject.toml",
    "/shaders/..%2f..%2fpyproject.toml",
    "/shaders/..%2F..%2Fpyproject.toml",
    "/shaders/%2e%2e/%2e%2e/pyproject.toml",
    "/shaders/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/shaders/..%5c..%5cpyproject.toml",
    "/%2e%2e/pyproject.toml",
    "/..%2fpyproject.toml",
    "/..%252fpyproject.toml",
    "/shaders/%252e%252e/%252e%252e/pyproject.toml",
    "/shaders//etc/passwd",
    "/%2fetc%2fpasswd",
    "/shaders/..%00/pyproject.toml",
    "/demo/shaders/..%2f..%2fpyproject.toml",
    "/demo/..%2fserver/rftoy/settings.py",
]


def raw_get(port: int, path: str) -> tuple[int, bytes]:
    """GET `path` byte for byte (no client-side normalisation of dots or escapes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("GET", path, skip_accept_encoding=True)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    served = start_server(server_settings(tmp_path_factory.mktemp("static"), root_path="/demo"))
    yield served
    served.stop()


@pytest.mark.parametrize("path", ATTEMPTS)
def test_traversal_attempts_fail(served, path: str) -> None:
    status, body = raw_get(served.port, path)
    assert status in (400, 404), f"{path}: HTTP {status}"
    assert b"[project]" not in body and b"root:" not in body and b"class Settings" not in body


def test_the_real_files_are_served(served) -> None:
    for path in ("/shaders/mlp.wgsl", "/demo/shaders/mlp.wgsl", "/main.js", "/demo/main.js"):
        assert raw_get(served.port, path)[0] == 200, path

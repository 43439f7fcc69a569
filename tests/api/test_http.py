"""The HTTP API with FastAPI's TestClient, and saved scenes across a real server restart."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from live_client import SMALL_NET, LiveClient
from live_server import server_settings
from rftoy.api.app import create_app
from rftoy.engine import data


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    shaders = tmp_path / "shaders"
    shaders.mkdir()
    (shaders / "mlp.wgsl").write_text("// forward pass\n")
    settings = server_settings(tmp_path, web_dir=tmp_path / "web", shaders_dir=shaders, max_message_bytes=4096)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_health_presets_docs_and_static(client: TestClient) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["device"] == "cpu" and health["sessions"] == 0
    assert health["protocol"] == 1 and "torch" in health
    assert client.get("/api/presets").json() == {"presets": list(data.PRESETS)}
    assert "rftoy server is running" in client.get("/").text
    assert client.get("/shaders/mlp.wgsl").text == "// forward pass\n"
    assert client.get("/docs").status_code == 200
    assert "/api/scenes" in client.get("/openapi.json").json()["paths"]


def test_scene_round_trip(client: TestClient) -> None:
    scene = {"kind": "points", "x0": [[0, 0], [1, 2]], "x1": [[3, 4], [-1, -2]], "source": None, "target": None,
             "placement": "overlaid"}
    saved = client.post("/api/scenes", json={"scene": scene, "config": {"width": 32, "steps": 8}})
    assert saved.status_code == 200
    loaded = client.get(f"/api/scenes/{saved.json()['id']}").json()
    assert loaded["scene"] == scene
    assert loaded["config"]["width"] == 32 and loaded["config"]["steps"] == 8 and loaded["config"]["depth"] == 3
    preset = client.post("/api/scenes", json={"scene": {"kind": "preset", "target": "cat", "n": 5}}).json()
    drawn = client.get(f"/api/scenes/{preset['id']}").json()["scene"]
    assert drawn["kind"] == "points" and len(drawn["x0"]) == 5 and drawn["target"] == "cat"
    assert drawn["placement"] == "apart" and max(x for x, _ in drawn["x0"]) < min(x for x, _ in drawn["x1"])


@pytest.mark.parametrize(("body", "words"), [
    ({"scene": {"kind": "preset", "n": 0}}, "greater than or equal to 1"),
    ({"scene": {"kind": "points", "x0": [[1e9, 0]], "x1": [[0, 0]]}}, "outside"),
    ({"scene": {"kind": "preset"}, "config": {"width": 999}}, "width must be between 1 and"),
    ({"config": {}}, "scene"),
])
def test_bad_scene_bodies_are_refused(client: TestClient, body: dict, words: str) -> None:
    response = client.post("/api/scenes", json=body)
    assert response.status_code == 422 and words in response.text


def test_oversize_and_unknown(client: TestClient) -> None:
    big = {"scene": {"kind": "points", "x0": [[0.5, 0.5]] * 400, "x1": [[1.5, 1.5]] * 400}}
    assert client.post("/api/scenes", json=big).status_code == 413
    assert client.post("/api/scenes", content=b"{broken", headers={"content-type": "application/json"}
                       ).status_code == 422
    assert client.get("/api/scenes/unknown").status_code == 404


async def test_saved_scene_survives_a_restart(launch) -> None:
    first = launch()
    scene = {"kind": "preset", "source": "square", "target": "spiral", "n": 12, "seed": 5}
    scene_id = httpx.post(f"{first.http_url}/api/scenes", json={"scene": scene, "config": SMALL_NET}).json()["id"]
    saved = httpx.get(f"{first.http_url}/api/scenes/{scene_id}").json()
    first.stop()
    second = launch()
    assert httpx.get(f"{second.http_url}/api/scenes/{scene_id}").json() == saved
    client = await LiveClient.open(second.ws_url)
    ready = await client.hello(scene_id=scene_id)
    assert ready["scene"] == saved["scene"] and ready["config"] == saved["config"]
    snapshot = await client.wait("snapshot")
    assert snapshot.meta["n"] == 12 and snapshot.meta["net"]["width"] == 16
    await client.close()

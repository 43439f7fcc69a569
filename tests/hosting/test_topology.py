"""compose.yaml's topology on loopback, without Docker: two `rftoy serve` replicas (processes) behind Debian's
nginx with deploy/nginx/rftoy.conf.template, sharing one throwaway Debian PostgreSQL cluster (deploy/loopback.py).

Without nginx or PostgreSQL these tests fail when CI is set (scripts/setup.sh --browser installs both) and are
skipped otherwise.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest
from chromium_launch import CHROMIUM, CHROMIUM_ARGS
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))
from loopback import MAIN_CONF, NGINX, TEMPLATE, Nginx, Postgres, Replica, Unavailable, free_port, render

SOCKETS_PER_ADDRESS = 6
POINTS = {"kind": "points", "x0": [[-1.5, 0.25], [0.5, -1.0], [1.0, 1.0]], "x1": [[2.0, 2.0], [3.0, -1.0], [0.0, 4.0]],
          "source": None, "target": None}


ROOT = Path(__file__).resolve().parents[2]


def missing(message: str) -> NoReturn:
    """Fail in CI, where the topology must be tested; skip on a developer's machine without nginx or PostgreSQL."""
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@dataclass
class Topology:
    nginx: Nginx
    replicas: list[Replica]

    @property
    def ws_url(self) -> str:
        return self.nginx.url.replace("http:", "ws:") + "/ws"

    def sessions(self) -> list[int]:
        """Live sessions on each replica, asked of each replica directly (not through the balancer)."""
        return [replica.get("/api/metrics")["sessions"] if replica.alive else 0 for replica in self.replicas]

    def revive(self) -> None:
        """Start again, on the same ports, the replicas a test stopped or killed."""
        dead = [replica.start() for replica in self.replicas if not replica.alive]
        for replica in dead:
            replica.wait()


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    try:
        import psycopg  # noqa: F401  (the replicas need it for a postgresql:// database)
        database = Postgres()
        folder = tmp_path_factory.mktemp("topology")
        ports = [free_port(), free_port()]
        nginx = Nginx(folder / "nginx", ports, sockets_per_address=SOCKETS_PER_ADDRESS, fail_timeout_s=10)
    except ImportError:
        missing("psycopg is not installed: pip install -e '.[dev]'")
    except Unavailable as error:
        missing(str(error))
    database.start()
    env = {"RFTOY_DATABASE": database.url, "RFTOY_TORCH_THREADS": "1"}
    replicas = [Replica(folder, port, env).start() for port in ports]
    try:
        for replica in replicas:
            replica.wait()
        nginx.start()
        yield Topology(nginx, replicas)
    finally:
        nginx.stop()
        for replica in replicas:
            replica.stop()
        database.stop()


@pytest.fixture
def both_up(topology: Topology) -> Iterator[Topology]:
    topology.revive()
    yield topology
    topology.revive()


def open_session(sockets: ExitStack, url: str, **hello: object) -> dict:
    """A websocket session, closed when `sockets` closes: hello, then the `ready` (or `error`) message."""
    ws: ClientConnection = sockets.enter_context(connect(url, open_timeout=20, max_size=2**24))
    ws.send(json.dumps({"type": "hello", "protocol": 1, **hello}))
    while True:
        message = ws.recv(timeout=30)
        if isinstance(message, str) and json.loads(message)["type"] in ("ready", "error"):
            return json.loads(message)


def http(method: str, url: str, body: dict | None = None) -> tuple[int, dict | str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_websockets_spread_over_both_replicas_and_the_balancer_limits_an_address(both_up: Topology) -> None:
    with ExitStack() as sockets:
        for _ in range(4):
            assert open_session(sockets, both_up.ws_url)["type"] == "ready"
        assert both_up.sessions() == [2, 2], "least_conn puts each new session on the replica with fewer"
        for _ in range(SOCKETS_PER_ADDRESS - 4):
            open_session(sockets, both_up.ws_url)
        with pytest.raises(InvalidStatus) as refused:
            open_session(sockets, both_up.ws_url)
        assert refused.value.response.status_code == 429, "one address has its limit over all replicas together"
        assert sum(both_up.sessions()) == SOCKETS_PER_ADDRESS


def test_a_scene_saved_through_one_replica_opens_through_the_other(both_up: Topology) -> None:
    first, second = both_up.replicas
    status, saved = http("POST", first.url + "/api/scenes", {"scene": POINTS, "config": {"width": 32}})
    assert status == 200
    status, found = http("GET", f"{second.url}/api/scenes/{saved['id']}")
    assert status == 200 and found["scene"]["x1"] == POINTS["x1"] and found["config"]["width"] == 32
    with ExitStack() as sockets:
        ready = open_session(sockets, second.url.replace("http:", "ws:") + "/ws", scene_id=saved["id"])
    assert ready["type"] == "ready" and ready["scene"]["x0"] == POINTS["x0"] and ready["config"]["width"] == 32
    for _ in range(4):  # through the balancer, whichever replica answers
        status, found = http("GET", f"{both_up.nginx.url}/api/scenes/{saved['id']}")
        assert status == 200 and found["scene"]["x0"] == POINTS["x0"]


def test_the_balancer_takes_a_stopped_replica_out(both_up: Topology) -> None:
    alive, stopped = both_up.replicas
    stopped.stop()
    log_start = both_up.nginx.access_log.stat().st_size
    statuses = [http("GET", both_up.nginx.url + "/api/health")[0] for _ in range(20)]
    assert statuses == [200] * 20, "every request succeeds after a replica stopped"
    with ExitStack() as sockets:
        for _ in range(2):
            assert open_session(sockets, both_up.ws_url)["type"] == "ready"
        assert alive.get("/api/metrics")["sessions"] == 2, "new sessions go to the replica still up"
    with both_up.nginx.access_log.open() as log:
        log.seek(log_start)
        lines = [line for line in log if "/api/health" in line]
    tried = [line for line in lines if f"127.0.0.1:{stopped.port}" in line]
    assert len(lines) == 20
    assert len(tried) <= 1, f"after one refused connection the stopped replica is left out: {tried}"
    assert all("upstream_status=502, 200" in line for line in tried), "the request it refused went on to the other"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (set RFTOY_CHROMIUM)")
    runner = playwright_api.sync_playwright().start()
    browser = runner.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    runner.stop()


def drag(page, cloud: str, index: int, dx: float, dy: float) -> list[float]:
    """Drag a sample by (dx, dy) CSS pixels and let go; returns where the page now has it."""
    start = page.evaluate("([c, i]) => window.rftoy.pointOnPage(c, i)", [cloud, index])
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    page.mouse.move(start["x"] + dx, start["y"] + dy, steps=6)
    page.mouse.up()
    return page.evaluate(f"window.rftoy.points().{cloud}[{index}]")


def wait_traced_from(page, index: int, point: list[float], timeout: float = 90_000) -> None:
    """Until the server's trajectory of sample `index` starts at `point` (the session trains on that x0)."""
    page.wait_for_function(
        """([i, p]) => {
            const path = window.rftoy.trajectory(i);
            return path !== null && Math.hypot(path[0][0] - p[0], path[0][1] - p[1]) < 1e-3;
        }""", arg=[index, point], timeout=timeout)


def assert_same_points(found: dict, expected: dict) -> None:
    """The same scene, to float32 (the server keeps coordinates as float32 and echoes them back)."""
    for cloud in ("x0", "x1"):
        assert np.asarray(found[cloud]).shape == np.asarray(expected[cloud]).shape
        assert np.allclose(found[cloud], expected[cloud], rtol=0, atol=1e-6), cloud


def wait_reconnected(page, times: int) -> None:
    """Until the page has reconnected `times` times in all and said so each time (the notice goes after 5 s, so
    the texts it showed are read from the record the test keeps, `window.noticesSeen`)."""
    page.wait_for_function(
        f"""window.rftoy.summary.reconnects === {times} && window.rftoy.summary.ready
            && window.noticesSeen.filter((t) => t === 'reconnected, your scene was restored').length === {times}""",
        timeout=120_000)


def test_a_page_whose_replica_dies_reconnects_and_keeps_its_scene(both_up: Topology, browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(both_up.nginx.url + "/?backend=js")
    page.wait_for_function("window.rftoy && window.rftoy.summary.ready && window.rftoy.trajectory(5) !== null",
                           timeout=60_000)
    page.fill("#width", "48")
    page.press("#width", "Enter")
    moved = drag(page, "x0", 5, 50, 30)
    wait_traced_from(page, 5, moved)
    before = page.evaluate("[window.rftoy.points(), window.rftoy.summary.settings]")
    assert before[1]["width"] == 48
    page.evaluate("""() => {
        window.noticesSeen = [];
        const box = document.getElementById('connection');
        new MutationObserver(() => window.noticesSeen.push(box.textContent))
            .observe(box, {childList: true, characterData: true, subtree: true});
    }""")

    serving = both_up.sessions().index(1)
    both_up.replicas[serving].kill()
    wait_reconnected(page, 1)
    assert "connection lost, reconnecting…" in page.evaluate("window.noticesSeen")
    assert_same_points(page.evaluate("window.rftoy.points()"), before[0])
    assert page.evaluate("window.rftoy.summary.settings") == before[1]
    wait_traced_from(page, 5, moved)
    assert both_up.sessions()[1 - serving] == 1, "the page's new session is on the other replica"

    # Both replicas down: the page keeps retrying, and what the user does meanwhile is kept and sent.
    both_up.replicas[1 - serving].kill()
    page.wait_for_function("document.getElementById('connection').textContent === 'connection lost, reconnecting…'"
                           " && !window.rftoy.summary.ready", timeout=30_000)
    offline = drag(page, "x0", 7, -40, 30)
    both_up.revive()
    wait_reconnected(page, 2)
    wait_traced_from(page, 7, offline)
    assert page.evaluate("window.rftoy.points().x0[7]") == pytest.approx(offline, abs=1e-6)
    assert page.evaluate("window.rftoy.summary.settings")["width"] == 48
    page.wait_for_function("document.getElementById('connection').hidden", timeout=15_000)
    assert errors == []
    context.close()


def compose_defaults(value: str) -> str:
    """What docker compose makes of `${NAME:-default}` with NAME unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def test_compose_renders_a_config_nginx_accepts(tmp_path: Path) -> None:
    """compose.yaml read as Docker would: the services wait for each other's health checks, and nginx's
    environment renders the template into a config `nginx -t` accepts (with the replicas' name on loopback)."""
    yaml = pytest.importorskip("yaml")
    if not os.path.exists(NGINX):
        missing("nginx not found: apt-get install nginx (scripts/setup.sh --browser does)")
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert services["rftoy"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["nginx"]["depends_on"]["rftoy"]["condition"] == "service_healthy"
    assert "healthcheck" in services["db"] and "healthcheck" in services["nginx"]
    assert services["rftoy"]["environment"]["RFTOY_DATABASE"].startswith("postgresql://rftoy:")
    env = {name: compose_defaults(value) for name, value in services["nginx"]["environment"].items()}
    assert set(env) == set(re.findall(r"\$\{([A-Z_]+)\}", TEMPLATE.read_text()))
    env["RFTOY_UPSTREAM_SERVERS"] = env["RFTOY_UPSTREAM_SERVERS"].replace("rftoy:8000", "127.0.0.1:8000")
    env["RFTOY_LB_LISTEN"] = f"127.0.0.1:{free_port()}"
    (tmp_path / "tmp").mkdir()
    (tmp_path / "rftoy.conf").write_text(render(TEMPLATE.read_text(), env))
    (tmp_path / "nginx.conf").write_text(MAIN_CONF.format(prefix=tmp_path))
    done = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e",
                           str(tmp_path / "error.log")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr

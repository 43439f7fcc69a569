"""Schema-driven fuzz of the HTTP API (schemathesis on the app's own OpenAPI) against a live server: no 500s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from live_server import LiveServer, server_settings, start_server  # noqa: E402  (after the skip)
from rftoy.api.app import create_app  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

MAX_EXAMPLES = 40
FUZZ_SETTINGS = {"scene_saves_per_minute": 100_000}

schema = schemathesis.openapi.from_dict(
    create_app(server_settings(Path(), database=Path(":memory:"), **FUZZ_SETTINGS)).openapi())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    served = start_server(server_settings(tmp_path_factory.mktemp("fuzz"), **FUZZ_SETTINGS))
    yield served
    served.stop()


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_server_error(case, served: LiveServer) -> None:
    case.call_and_validate(base_url=served.http_url, checks=[not_a_server_error])
    assert served.get("/api/health").status_code == 200

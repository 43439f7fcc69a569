"""The page's JS and WGSL forward passes agree with torch's VelocityMLP on the flat weight layout."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from browser_page import PageWatch, serve
from rftoy.engine.model import NetShape, VelocityMLP, export_weights

TOLERANCE = 1e-5  # the issue asks 1e-4; docs/engine.md, "Weight layout" hopes for about 1e-5, which holds
SHAPES = [NetShape(32, 3, "gelu"), NetShape(16, 2, "silu"), NetShape(24, 1, "tanh"), NetShape(20, 4, "relu")]


def grid_queries() -> torch.Tensor:
    """(x, y, t) on an 11 × 11 grid over [-3, 3]² at t = 0, 0.37 and 1."""
    axis = torch.linspace(-3.0, 3.0, 11)
    xs, ys = torch.meshgrid(axis, axis, indexing="xy")
    points = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)
    return torch.cat([torch.cat([points, torch.full((len(points), 1), t)], dim=1) for t in (0.0, 0.37, 1.0)])


def torch_reference(shape: NetShape, seed: int) -> tuple[list[float], list[float], list[float]]:
    torch.manual_seed(seed)
    model = VelocityMLP(shape)
    queries = grid_queries()
    with torch.no_grad():
        expected = model(queries[:, :2], queries[:, 2])
    return export_weights(model).tolist(), queries.reshape(-1).tolist(), expected.reshape(-1).tolist()


def page_forward(watch: PageWatch, shape: NetShape, weights: list[float], queries: list[float], backend: str) -> list:
    net = {"width": shape.width, "depth": shape.depth, "activation": shape.activation}
    return watch.page.evaluate("([w, n, q, b]) => window.rftoy.forward(w, n, q, b)", [weights, net, queries, backend])


def max_error(actual: list[float], expected: list[float]) -> float:
    assert len(actual) == len(expected)
    return max(abs(a - b) for a, b in zip(actual, expected, strict=True))


def test_js_fallback_matches_torch(js_page: PageWatch, server: str) -> None:
    js_page.open(server)
    assert js_page.summary()["backend"] == "js"
    for shape in SHAPES:
        weights, queries, expected = torch_reference(shape, seed=7)
        assert max_error(page_forward(js_page, shape, weights, queries, "js"), expected) < TOLERANCE, shape
    assert js_page.errors == []


def test_webgpu_matches_torch_and_runs_the_page(gpu_page: PageWatch, server: str) -> None:
    gpu_page.open(server)
    page = gpu_page.page
    summary = gpu_page.summary()
    assert summary["backend"] == "webgpu", summary["backendNote"]
    assert not page.locator("#notice").is_visible()
    for shape in SHAPES:
        weights, queries, expected = torch_reference(shape, seed=11)
        assert max_error(page_forward(gpu_page, shape, weights, queries, "webgpu"), expected) < TOLERANCE, shape
        assert max_error(page_forward(gpu_page, shape, weights, queries, "js"), expected) < TOLERANCE, shape
    page.wait_for_function("window.rftoy.trajectory(0) !== null && window.rftoy.summary.particles > 0")
    gpu_page.screenshot("06-webgpu")
    assert gpu_page.summary()["backend"] == "webgpu"
    assert gpu_page.errors == []


@pytest.fixture(scope="module")
def wide_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server that allows nets wider than the WGSL shaders hold (MAX_WIDTH 256)."""
    yield from serve(tmp_path_factory.mktemp("wide"), RFTOY_MAX_WIDTH="300")


def test_a_net_wider_than_the_shaders_runs_in_js(gpu_page: PageWatch, wide_server: str) -> None:
    gpu_page.open(wide_server)
    page = gpu_page.page
    assert gpu_page.summary()["backend"] == "webgpu"
    page.eval_on_selector("#depth", "e => e.closest('details').open = true")  # depth folds under "Advanced"
    page.fill("#depth", "1")
    page.press("#depth", "Enter")
    page.fill("#width", "260")
    page.press("#width", "Enter")
    page.wait_for_function("window.rftoy.summary.backend === 'js'", timeout=40_000, polling=100)
    assert "limit of 256" in page.locator("#notice").inner_text()
    page.wait_for_function("window.rftoy.trajectory(0) !== null && window.rftoy.summary.particles > 0")
    shape = NetShape(260, 1, "gelu")
    weights, queries, expected = torch_reference(shape, seed=3)
    assert max_error(page_forward(gpu_page, shape, weights, queries, "js"), expected) < TOLERANCE
    refused = page.evaluate("([w, n, q]) => window.rftoy.forward(w, n, q, 'webgpu').then(() => 'ran', (e) => "
                            "e.message)", [weights, {"width": 260, "depth": 1, "activation": "gelu"}, queries])
    assert "limit of 256" in refused
    assert [e for e in gpu_page.errors if "limit of 256" not in e] == []

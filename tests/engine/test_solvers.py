"""Solvers: exact straight paths, convergence orders on a known field, grids and bad input."""

import math

import pytest
import torch
from rftoy.engine.solvers import EVALS_PER_STEP, solve, time_grid, warp_time


def rotation(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """dz/dt = (1 + t)·J z: the exact solution turns z0 by the angle t + t²/2."""
    return (1 + t) * torch.stack([-z[:, 1], z[:, 0]], dim=1)


def exact_rotation(z0: torch.Tensor) -> torch.Tensor:
    angle = 1.5
    c, s = math.cos(angle), math.sin(angle)
    return torch.stack([c * z0[:, 0] - s * z0[:, 1], s * z0[:, 0] + c * z0[:, 1]], dim=1)


def end_error(method: str, steps: int) -> float:
    z0 = torch.tensor([[1.0, 0.5], [-0.3, 2.0]], dtype=torch.float64)
    return float((solve(rotation, z0, steps, method).end - exact_rotation(z0)).norm(dim=1).max())


@pytest.mark.parametrize(("method", "order"), [("euler", 1), ("midpoint", 2), ("rk4", 4)])
def test_error_shrinks_by_two_to_the_order_per_halving(method: str, order: int) -> None:
    ratios = [end_error(method, n) / end_error(method, 2 * n) for n in (16, 32)]
    for ratio in ratios:
        assert 2**order * 0.8 < ratio < 2**order * 1.25


def test_rk4_error_shrinks_about_sixteen_fold() -> None:
    assert 14 < end_error("rk4", 20) / end_error("rk4", 40) < 18


def test_constant_field_moves_points_along_straight_lines() -> None:
    x0 = torch.tensor([[0.0, 0.0], [1.0, -1.0]])
    x1 = torch.tensor([[2.0, 1.0], [-1.0, 3.0]])
    traj = solve(lambda z, t: (x1 - x0).expand_as(z), x0, 10, "euler")
    times = traj.times[:, None, None]
    assert torch.allclose(traj.points, x0 + times * (x1 - x0), atol=1e-6)


def test_trajectory_shape_and_evaluation_count() -> None:
    z0 = torch.zeros(5, 2)
    for method, per_step in EVALS_PER_STEP.items():
        calls = 0

        def field(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            nonlocal calls
            calls += 1
            return torch.ones_like(z)

        traj = solve(field, z0, 7, method)
        assert traj.points.shape == (8, 5, 2)
        assert traj.nfe == calls == 7 * per_step
        assert torch.allclose(traj.end, torch.ones(5, 2))


def test_warped_grid_keeps_its_ends_and_moves_its_steps() -> None:
    for s, middle_smaller in ((0.5, True), (1.5, False)):
        grid = time_grid(10, warp_s=s)
        assert grid[0] == 0 and abs(float(grid[-1]) - 1) < 1e-6
        assert torch.all(grid[1:] > grid[:-1])
        steps = grid[1:] - grid[:-1]
        assert (steps[5] < steps[0]) == middle_smaller
    assert torch.allclose(warp_time(torch.linspace(0, 1, 11), 1.0), torch.linspace(0, 1, 11))


def test_bad_solver_input_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown solver"):
        solve(rotation, torch.zeros(1, 2), 4, "heun")
    with pytest.raises(ValueError, match="at least one step"):
        time_grid(0)
    with pytest.raises(ValueError, match="warp slope"):
        warp_time(torch.zeros(1), 2.0)

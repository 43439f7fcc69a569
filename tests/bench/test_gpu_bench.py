"""bench/gpu.py runs end to end on the CPU, small: every variant it can run here is measured, the CUDA-only ones
say why they were skipped, and a real server is driven by dragged sessions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "gpu.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=500)


def test_the_gpu_bench_runs_small_on_the_cpu() -> None:
    done = run("--device", "cpu", "--nets", "2", "--seconds", "0.2", "--variants", "server", "stacked", "graph",
               "--sessions", "1", "--session-seconds", "2", "--no-write")
    assert done.returncode == 0, done.stderr
    result = next(json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"device"'))
    steps = {row["variant"]: row for row in result["steps"]}
    assert steps["server"]["net_steps_per_s"] > 0 and steps["stacked"]["net_steps_per_s"] > 0
    assert steps["graph"]["skipped"] == "needs CUDA"
    assert result["traces"][0]["nets"] == 2 and result["traces"][0]["trace_ms_per_session"] > 0
    [served] = result["sessions"]
    assert served["sessions"] == 1 and served["min_snapshots_per_s"] > 0
    assert result["served_at_10_hz"] in (0, 1)
    assert "| server | 2 |" in done.stdout and "Sessions served at >= 10 snapshots/s each" in done.stdout


def test_without_cuda_it_says_so_and_stops() -> None:
    if torch.cuda.is_available():
        pytest.skip("torch sees a CUDA device here")
    done = run("--no-write")
    assert done.returncode == 2
    assert "torch sees no CUDA device here" in done.stderr

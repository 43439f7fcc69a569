"""bench/sticks.py runs end to end, small: real flows trained and scored on several seeds' yardsticks."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "sticks.py"


def test_each_flow_is_scored_on_every_yardstick() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--seconds", "0.2", "--train-seeds", "1", "--sticks", "2",
                           "--loops", "default", "--no-write"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[0])
    assert [(flow["loop"], flow["seed"]) for flow in result["flows"]] == [("default", 1)]
    for flow in result["flows"]:
        assert flow["steps"] > 0
        assert len(flow["euler"]) == len(flow["rk4"]) == 2
        assert all(math.isfinite(v) and v > 0 for v in flow["euler"] + flow["rk4"])
    assert "| default | 1 |" in done.stdout

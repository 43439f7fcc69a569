"""Where a trained flow's W2/floor comes from: the training, or the seed's draws.

bench/train.py scores the flow of seed s on seed s's yardstick (its noise draw, target set and floor). This bench
trains a loop on a few seeds for the same CPU seconds, then scores every flow on the yardsticks of many seeds,
by the yardstick's 100 Euler steps and by 50 RK4 steps (a finer solver). If two flows trained on different seeds
score alike yardstick by yardstick, the yardstick's draws set the score, and the median over a few seeds says
which draws those seeds made more than how good the flow is. Prints JSON and a table; rewrites its target's
section of bench/RESULTS.md (unless --no-write).

    python bench/sticks.py --jobs 2                                    # spiral, default and reference, 30 s
    python bench/sticks.py --seconds 0.2 --train-seeds 0 --sticks 2 --loops default --no-write
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from multiprocessing import get_context

from rftoy.benchmark import make_loop, warm_up
from rftoy.engine import data
from rftoy.results import loadavg, results_path, write_section
from rftoy.yardstick import Yardstick, score, yardstick

SECTION = "## A trained flow's score, seed by seed (bench/sticks.py, {target})"
RK4_STEPS = 50


@cache
def cached_yardstick(target: str, seed: int) -> Yardstick:
    """A seed's yardstick, made once per worker process (its floor costs four exact assignments)."""
    return yardstick(target, seed)


def scored_flow(job: tuple[str, str, int, float, int]) -> dict:
    """Train `loop` on gaussian → target with seed `seed` for `seconds` CPU seconds (one thread), then score
    it on the yardsticks of seeds 0 .. sticks − 1."""
    loop, target, seed, seconds, sticks = job
    warm_up([loop], target)
    current, step = make_loop(loop, target, data.generator(seed + 1))
    steps, started = 0, time.thread_time()
    while time.thread_time() - started < seconds:
        step()
        steps += 1
    model = current()
    yardsticks = [cached_yardstick(target, s) for s in range(sticks)]
    return {"loop": loop, "seed": seed, "steps": steps,
            "euler": [round(score(model, stick), 3) for stick in yardsticks],
            "rk4": [round(score(model, stick, steps=RK4_STEPS, method="rk4"), 3) for stick in yardsticks]}


def table(flows: list[dict]) -> str:
    """One row per flow: its W2/floor on each yardstick (Euler), then the mean and median, and the RK4 mean."""
    sticks = len(flows[0]["euler"])
    head = ["loop", "trained on seed", "steps", *(f"yardstick {s}" for s in range(sticks)), "mean", "median",
            f"mean, RK4 × {RK4_STEPS}"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for flow in flows:
        euler = flow["euler"]
        lines.append("| " + " | ".join([flow["loop"], str(flow["seed"]), str(flow["steps"]),
                                        *(f"{v:.2f}" for v in euler), f"{statistics.mean(euler):.2f}",
                                        f"{statistics.median(euler):.2f}",
                                        f"{statistics.mean(flow['rk4']):.2f}"]) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default="spiral")
    parser.add_argument("--loops", type=lambda text: text.split(","), default=["default", "reference"])
    parser.add_argument("--train-seeds", type=lambda text: [int(s) for s in text.split(",")], default=[0, 3])
    parser.add_argument("--sticks", type=int, default=10, help="score on the yardsticks of seeds 0 .. this − 1")
    parser.add_argument("--seconds", type=float, default=30.0, help="CPU seconds of training per flow")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes, one torch thread each")
    parser.add_argument("--no-write", dest="write", action="store_false")
    args = parser.parse_args()
    load_before, started = loadavg(), time.perf_counter()
    work = [(loop, args.target, seed, args.seconds, args.sticks) for loop in args.loops for seed in args.train_seeds]
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
        flows = list(pool.map(scored_flow, work))
    results = {"target": args.target, "seconds": args.seconds, "flows": flows,
               "wall_s": round(time.perf_counter() - started, 1), "loadavg": [load_before, loadavg()]}
    print(json.dumps(results))
    rendered = table(flows)
    print(rendered)
    if args.write:
        loads = " → ".join("?" if load is None else f"{load:.1f}" for load in results["loadavg"])
        note = (f"`python bench/sticks.py --jobs {args.jobs}` ({args.target}, {args.seconds:g} CPU s of training "
                f"per flow, one thread; 1-minute load average {loads} from start to end): "
                f"each flow's W2/floor on the yardsticks of seeds 0–{args.sticks - 1} (bench/train.py's random "
                "noise, 100 Euler steps), and the mean of the same flow carried by RK4.")
        path = results_path(None)
        heading = SECTION.format(target=args.target)
        write_section(path, heading, f"{note}\n\n{rendered}")
        print(f"wrote the section {heading!r} of {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

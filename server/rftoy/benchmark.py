"""Training speed: ms per step, and time-to-quality of the default recipe against a plain tutorial-style loop.

Time-to-quality is the training time (evaluation excluded) until samples from the flow reach
W2 ≤ 1.25 × the W2 floor at n = 2000 (mean over three evaluation sets) and are still there at the next
checkpoint; checkpoints come every 10 % of the training time so far, at least every 0.1 s, for both recipes.
The time of the first checkpoint under the line (held or not) is reported beside it. The plain loop is the one
the tutorials write: fresh random pairs every step, batch 2048, Adam at lr 3e-3, a 3×64 MLP with exact GELU,
uniform t, no schedule.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from rftoy import data, metrics
from rftoy.experiment import ExperimentConfig
from rftoy.flow import Trainer, online_sampler
from rftoy.model import VelocityMLP
from rftoy.settings import REPO_ROOT
from rftoy.solvers import solve

QUALITY_RATIO = 1.25
EVAL_N = 2000
EVAL_SETS = 3
EVAL_RK4_STEPS = 32
CHECKPOINT_S = 0.1
RESULTS_FILE = REPO_ROOT / "bench" / "RESULTS.md"
SECTION = "## Training (bench/train.py)"


class TutorialNet(nn.Module):
    """The plain reference net: 3 hidden layers of 64, exact GELU, input (x, y, t)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 64), nn.GELU(), nn.Linear(64, 64), nn.GELU(),
                                 nn.Linear(64, 64), nn.GELU(), nn.Linear(64, 2))

    def forward(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=x.dtype).expand(x.shape[0])
        return self.net(torch.cat([x, t[:, None]], dim=1))


@dataclass
class QualityRun:
    """Time and steps to quality held over two checkpoints (None: not within the budget), and to its first pass."""

    recipe: str
    target: str
    seconds: float | None
    steps: int
    best_ratio: float
    first_pass_seconds: float | None
    first_pass_steps: int | None


def tutorial_loop(target: str, gen: torch.Generator) -> tuple[Callable[[], nn.Module], Callable[[], None]]:
    """The reference loop as a model getter and a one-step function."""
    model = TutorialNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

    def step() -> None:
        x0, x1 = data.sample("gaussian", 2048, gen), data.sample(target, 2048, gen)
        t = torch.rand(2048, generator=gen)
        xt = t[:, None] * x1 + (1 - t[:, None]) * x0
        loss = nn.functional.mse_loss(model(xt, t), x1 - x0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return lambda: model, step


def default_recipe(target: str, gen: torch.Generator,
                   batch: int | None = None) -> tuple[Callable[[], nn.Module], Callable[[], None]]:
    """rftoy's default 1-RF recipe (ExperimentConfig's defaults) as a model getter and a one-step function."""
    cfg = ExperimentConfig()
    trainer = Trainer(VelocityMLP(cfg.net), cfg.train)
    sampler = online_sampler("gaussian", target, cfg.coupling, gen)
    size = batch or cfg.train.batch

    def step() -> None:
        trainer.step(*sampler(size))

    return trainer.averaged_model, step


def quality_ratio(model: nn.Module, sets: list[tuple[torch.Tensor, torch.Tensor]], floors: list[float]) -> float:
    """Mean W2 of the flow's samples over the evaluation sets, divided by the mean floor of the same sets."""
    scores = [metrics.wasserstein2(solve(model, x0, EVAL_RK4_STEPS, "rk4").end, reference) for x0, reference in sets]
    return sum(scores) / sum(floors)


def time_to_quality(recipe: str, target: str, budget_s: float, seed: int = 0) -> QualityRun:
    """Train until W2 ≤ QUALITY_RATIO × floor holds at two checkpoints in a row, or the budget is spent.

    Quality is judged like the floor itself: random noise points, EVAL_SETS independent sets of EVAL_N, each
    scored against its own target draw, so a perfect flow scores about 1.0 and one lucky draw cannot pass.
    The flow is scored at checkpoints every 10 % of the training time so far (at least every CHECKPOINT_S), so
    both recipes are timed to the same relative resolution; evaluation time is not counted. A pass counts only
    when the next checkpoint passes too (a flow that dips under the line once and climbs back has not arrived),
    and the time reported is that of the first of the two.
    """
    torch.manual_seed(seed)
    eval_gen = data.generator(seed)
    sets = [(data.sample("gaussian", EVAL_N, eval_gen), data.sample(target, EVAL_N, eval_gen))
            for _ in range(EVAL_SETS)]
    floors = [metrics.w2_floor(reference, target, eval_gen, repeats=2) for _, reference in sets]
    train_gen = data.generator(seed + 1)
    current, step = (tutorial_loop if recipe == "tutorial" else default_recipe)(target, train_gen)
    spent, steps, best = 0.0, 0, float("inf")
    first_pass: tuple[float, int] | None = None
    passed: tuple[float, int] | None = None
    while spent < budget_s:
        checkpoint = spent + max(CHECKPOINT_S, 0.1 * spent)
        started = time.perf_counter()
        while spent + time.perf_counter() - started < checkpoint:
            step()
            steps += 1
        spent += time.perf_counter() - started
        ratio = quality_ratio(current(), sets, floors)
        best = min(best, ratio)
        if ratio > QUALITY_RATIO:
            passed = None
        elif passed is None:
            passed = spent, steps
            first_pass = first_pass or passed
        else:
            return QualityRun(recipe, target, *passed, best, *first_pass)
    return QualityRun(recipe, target, None, steps, best, *(first_pass or (None, None)))


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def ms_per_step(threads: int, recipe: str, repeats: int = 50) -> float:
    """Milliseconds per training step at batch 2048 (3×64 MLP), fresh gaussian → moons samples included."""
    with torch_threads(threads):
        gen = data.generator(0)
        step = tutorial_loop("moons", gen)[1] if recipe == "tutorial" else default_recipe("moons", gen, batch=2048)[1]
        for _ in range(5):
            step()
        started = time.perf_counter()
        for _ in range(repeats):
            step()
        return (time.perf_counter() - started) / repeats * 1000


def run(quick: bool = False) -> dict:
    budget = 20.0 if quick else 90.0
    speed = {f"{recipe}_threads{threads}": ms_per_step(threads, recipe, 20 if quick else 100)
             for recipe in ("tutorial", "default") for threads in (1, 2)}
    with torch_threads(1):
        quality = [time_to_quality(recipe, target, budget)
                   for target in ("spiral", "circle") for recipe in ("tutorial", "default")]
    speedups = {}
    for target in ("spiral", "circle"):
        runs = {q.recipe: q for q in quality if q.target == target}
        for rule, field in (("held", "seconds"), ("first pass", "first_pass_seconds")):
            plain, ours = getattr(runs["tutorial"], field), getattr(runs["default"], field)
            speedups[f"{target}, {rule}"] = plain / ours if plain and ours else None
    machine = f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}"
    return {"machine": f"{machine}; time-to-quality on 1 thread",
            "budget_s": budget, "ms_per_step_batch2048": speed,
            "time_to_quality": [q.__dict__ for q in quality], "speedup": speedups}


def table(results: dict) -> str:
    lines = ["| what | value |", "| --- | --- |"]
    for name, ms in results["ms_per_step_batch2048"].items():
        lines.append(f"| ms/step, batch 2048, {name.replace('_threads', ', threads ')} | {ms:.2f} |")
    for q in results["time_to_quality"]:
        held = (f"{q['seconds']:.2f} s ({q['steps']} steps)" if q["seconds"] is not None
                else f"not held within {results['budget_s']:.0f} s ({q['steps']} steps)")
        first = ("none" if q["first_pass_seconds"] is None
                 else f"{q['first_pass_seconds']:.2f} s ({q['first_pass_steps']} steps)")
        lines.append(f"| gaussian → {q['target']}, {q['recipe']}: time to W2 ≤ {QUALITY_RATIO} × floor, held | "
                     f"{held}; first pass {first}; best {q['best_ratio']:.2f} × floor |")
    for name, ratio in results["speedup"].items():
        lines.append(f"| speed-up of the default recipe, {name} | {f'{ratio:.1f}×' if ratio else 'n/a'} |")
    return "\n".join(lines)


def write_section(path: Path, heading: str, body: str) -> None:
    """Replace (or append) one `## ` section of a Markdown results file, leaving the others as they are."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start = text.find(heading)
    if start == -1:
        text = text.rstrip("\n") + f"\n\n{heading}\n\n{body}\n"
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + f"{heading}\n\n{body}\n" + (text[end:] if end != -1 else "")
    path.write_text(text)


def main(quick: bool = False) -> int:
    results = run(quick)
    print(json.dumps(results, indent=2))
    rendered = table(results)
    print(rendered)
    command = "rftoy bench --quick" if quick else "rftoy bench"
    write_section(RESULTS_FILE, SECTION, f"`{command}` on {results['machine']}.\n\n{rendered}")
    return 0

"""Training speed: ms per step, and time-to-quality of the default recipe against a plain tutorial-style loop.

Time-to-quality is the training time (evaluation excluded) until samples from the flow reach W2 ≤ 1.25 × the
W2 floor at n = 2000 (mean over three evaluation sets, each floor the mean of four draws) and are still there at
the next checkpoint; checkpoints come every 20 % of the training time so far, at least every 0.1 s, for both
recipes. The time of the first checkpoint under the line (held or not) is reported beside it. Every recipe and
target runs once per seed (seeds change the evaluation sets, the initial weights and the training draws); the
speed-ups compare medians over the seeds. The plain loop is the one the tutorials write: fresh random pairs
every step, batch 2048, Adam at lr 3e-3, a 3×64 MLP with exact GELU, uniform t, no schedule.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from rftoy import data, metrics
from rftoy.experiment import ExperimentConfig, fresh_net
from rftoy.flow import Trainer, online_sampler
from rftoy.settings import REPO_ROOT
from rftoy.solvers import solve

QUALITY_RATIO = 1.25
EVAL_N = 2000
EVAL_SETS = 3
FLOOR_REPEATS = 4
EVAL_RK4_STEPS = 32
CHECKPOINT_S = 0.1
CHECKPOINT_GROWTH = 0.2
SCREEN_DIRECTIONS = 32
RESULTS_FILE = REPO_ROOT / "bench" / "RESULTS.md"
SECTION = "## Training (bench/train.py)"
SEEDS = (0, 1, 2)
TARGETS = ("spiral", "circle")
RECIPES = ("tutorial", "default")
BUDGET_S = 90.0
QUICK_BUDGET_S = 20.0


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
    """Time and steps to quality held over two checkpoints (None: not within the budget), and to its first pass.

    `best_ratio` is the best over the checkpoints scored in full (None: every one was surely above the line).
    """

    recipe: str
    target: str
    seed: int
    seconds: float | None
    steps: int
    best_ratio: float | None
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
    trainer = Trainer(fresh_net(cfg), cfg.train)
    sampler = online_sampler("gaussian", target, cfg.coupling, gen)
    size = batch or cfg.train.batch

    def step() -> None:
        trainer.step(*sampler(size))

    return trainer.averaged_model, step


def sliced_w2_bound(samples: torch.Tensor, target: torch.Tensor) -> float:
    """The largest W2 between the two sets' projections on SCREEN_DIRECTIONS lines through the origin.

    Projecting is 1-Lipschitz, so this never exceeds the W2 of the sets themselves; it costs two sorts where
    the exact W2 costs an assignment.
    """
    angle = torch.arange(SCREEN_DIRECTIONS) * math.pi / SCREEN_DIRECTIONS
    directions = torch.stack([angle.cos(), angle.sin()], dim=1)
    a, b = ((points @ directions.T).sort(dim=0).values for points in (samples, target))
    return float((a - b).double().square().mean(dim=0).max().sqrt())


def quality_ratio(model: nn.Module, sets: list[tuple[torch.Tensor, torch.Tensor]],
                  floors: list[float]) -> float | None:
    """Mean W2 of the flow's samples over the evaluation sets, divided by the mean floor of the same sets.

    None when the ratio is surely above QUALITY_RATIO: each set's W2 starts as its lower bound (sliced_w2_bound)
    and is replaced by the exact W2 one set at a time, and scoring stops once the sum is over the line.
    """
    ends = [solve(model, x0, EVAL_RK4_STEPS, "rk4").end for x0, _ in sets]
    scores = [sliced_w2_bound(end, reference) for end, (_, reference) in zip(ends, sets, strict=True)]
    for i, (end, (_, reference)) in enumerate(zip(ends, sets, strict=True)):
        if sum(scores) > QUALITY_RATIO * sum(floors):
            return None
        scores[i] = metrics.wasserstein2(end, reference)
    return sum(scores) / sum(floors)


EvaluationSets = tuple[list[tuple[torch.Tensor, torch.Tensor]], list[float]]


def evaluation_sets(target: str, seed: int) -> EvaluationSets:
    """EVAL_SETS pairs of (noise points, target draw) of EVAL_N each, and each target draw's W2 floor.

    One W2 between two draws varies by about ±25 %, so each floor is the mean of FLOOR_REPEATS draws; both
    recipes are scored against the same sets and floors. The noise points are low-discrepancy draws
    (data.evaluation_sample, as the experiment's): from random ones, a perfect flow onto the circle scored 0.90
    to 1.13 × the floor depending on the seed, which decided a pass more than the flow did.
    """
    eval_gen = data.generator(seed)
    sets = [(data.evaluation_sample("gaussian", EVAL_N, EVAL_SETS * seed + i), data.sample(target, EVAL_N, eval_gen))
            for i in range(EVAL_SETS)]
    return sets, [metrics.w2_floor(reference, target, eval_gen, FLOOR_REPEATS) for _, reference in sets]


def time_to_quality(recipe: str, target: str, budget_s: float, seed: int = 0,
                    evaluation: EvaluationSets | None = None) -> QualityRun:
    """Train until W2 ≤ QUALITY_RATIO × floor holds at two checkpoints in a row, or the budget is spent.

    Quality is judged on EVAL_SETS independent sets of EVAL_N low-discrepancy noise points (evaluation_sets),
    each scored against its own target draw, so one lucky draw cannot pass.
    The flow is scored at checkpoints every 20 % of the training time so far (at least every CHECKPOINT_S), so
    both recipes are timed to the same relative resolution; evaluation time is not counted. A pass counts only
    when the next checkpoint passes too (a flow that dips under the line once and climbs back has not arrived),
    and the time reported is that of the first of the two.
    """
    sets, floors = evaluation or evaluation_sets(target, seed)
    torch.manual_seed(seed)
    train_gen = data.generator(seed + 1)
    current, step = (tutorial_loop if recipe == "tutorial" else default_recipe)(target, train_gen)
    spent, steps = 0.0, 0
    best: float | None = None
    first_pass: tuple[float, int] | None = None
    passed: tuple[float, int] | None = None
    while spent < budget_s:
        checkpoint = spent + max(CHECKPOINT_S, CHECKPOINT_GROWTH * spent)
        started = time.perf_counter()
        while spent + time.perf_counter() - started < checkpoint:
            step()
            steps += 1
        spent += time.perf_counter() - started
        ratio = quality_ratio(current(), sets, floors)
        if ratio is not None:
            best = ratio if best is None else min(best, ratio)
        if ratio is None or ratio > QUALITY_RATIO:
            passed = None
        elif passed is None:
            passed = spent, steps
            first_pass = first_pass or passed
        else:
            return QualityRun(recipe, target, seed, *passed, best, *first_pass)
    return QualityRun(recipe, target, seed, None, steps, best, *(first_pass or (None, None)))


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


def median(values: list[float | None]) -> float | None:
    """The median, a run that never got there (None) counting as slower than any that did; None if it is one."""
    middle = statistics.median(math.inf if v is None else v for v in values)
    return None if math.isinf(middle) else middle


def medians(runs: list[QualityRun]) -> dict:
    """Median seconds and steps to quality, held and first pass, and the median best ratio over the seeds."""
    return {"seconds": median([r.seconds for r in runs]),
            "steps": median([r.steps if r.seconds is not None else None for r in runs]),
            "first_pass_seconds": median([r.first_pass_seconds for r in runs]),
            "first_pass_steps": median([r.first_pass_steps for r in runs]),
            "best_ratio": median([r.best_ratio for r in runs])}


def run(quick: bool = False, seeds: tuple[int, ...] | None = None) -> dict:
    budget = QUICK_BUDGET_S if quick else BUDGET_S
    seeds = seeds or (SEEDS[:1] if quick else SEEDS)
    speed = {f"{recipe}_threads{threads}": ms_per_step(threads, recipe, 20 if quick else 100)
             for recipe in RECIPES for threads in (1, 2)}
    with torch_threads(1):
        evaluations = {(target, seed): evaluation_sets(target, seed) for target in TARGETS for seed in seeds}
        quality = [time_to_quality(recipe, target, budget, seed, evaluations[target, seed])
                   for target in TARGETS for recipe in RECIPES for seed in seeds]
    summary = [{"target": target, "recipe": recipe,
                **medians([q for q in quality if q.target == target and q.recipe == recipe])}
               for target in TARGETS for recipe in RECIPES]
    speedups = {}
    for target in TARGETS:
        plain, ours = (next(m for m in summary if m["target"] == target and m["recipe"] == r) for r in RECIPES)
        for rule, field in (("held", "seconds"), ("first pass", "first_pass_seconds")):
            speedups[f"{target}, {rule}"] = plain[field] / ours[field] if plain[field] and ours[field] else None
    machine = f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}"
    return {"machine": f"{machine}; time-to-quality on 1 thread", "budget_s": budget, "seeds": list(seeds),
            "ms_per_step_batch2048": speed, "time_to_quality": [q.__dict__ for q in quality],
            "median": summary, "speedup": speedups}


def _reached(seconds: float | None, steps: int | float | None, budget: float) -> str:
    return f"{seconds:.2f} s ({steps:.0f} steps)" if seconds is not None else f"not within {budget:.0f} s"


def _best(ratio: float | None) -> str:
    return f"best {ratio:.2f} × floor" if ratio is not None else f"never scored under {QUALITY_RATIO} × floor"


def _speedup(ratio: float | None, name: str, results: dict) -> str:
    """The ratio of the medians; a lower bound when the plain loop's median run did not get there in the budget."""
    if ratio:
        return f"{ratio:.1f}×"
    target, rule = name.split(", ")
    field = "seconds" if rule == "held" else "first_pass_seconds"
    plain, ours = (next(m[field] for m in results["median"] if m["target"] == target and m["recipe"] == recipe)
                   for recipe in RECIPES)
    return f"> {results['budget_s'] / ours:.1f}× (tutorial not within the budget)" if ours and not plain else "n/a"


def table(results: dict) -> str:
    budget = results["budget_s"]
    lines = ["| what | value |", "| --- | --- |"]
    for name, ms in results["ms_per_step_batch2048"].items():
        lines.append(f"| ms/step, batch 2048, {name.replace('_threads', ', threads ')} | {ms:.2f} |")
    for q in results["time_to_quality"]:
        held = (_reached(q["seconds"], q["steps"], budget) if q["seconds"] is not None
                else f"not held within {budget:.0f} s ({q['steps']} steps)")
        lines.append(f"| gaussian → {q['target']}, {q['recipe']}, seed {q['seed']}: time to W2 ≤ {QUALITY_RATIO} × "
                     f"floor, held | {held}; first pass "
                     f"{_reached(q['first_pass_seconds'], q['first_pass_steps'], budget)}; "
                     f"{_best(q['best_ratio'])} |")
    for m in results["median"]:
        lines.append(f"| gaussian → {m['target']}, {m['recipe']}, median of {len(results['seeds'])} seeds | held "
                     f"{_reached(m['seconds'], m['steps'], budget)}; first pass "
                     f"{_reached(m['first_pass_seconds'], m['first_pass_steps'], budget)}; "
                     f"{_best(m['best_ratio'])} |")
    for name, ratio in results["speedup"].items():
        lines.append(f"| speed-up of the default recipe (medians), {name} | {_speedup(ratio, name, results)} |")
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


def main(quick: bool = False, seeds: tuple[int, ...] | None = None) -> int:
    results = run(quick, seeds)
    print(json.dumps(results, indent=2))
    rendered = table(results)
    print(rendered)
    options = (" --quick" if quick else "") + (f" --seeds {','.join(map(str, seeds))}" if seeds else "")
    command = f"python bench/train.py{options}" if seeds else f"rftoy bench{options}"
    write_section(RESULTS_FILE, SECTION, f"`{command}` on {results['machine']}.\n\n{rendered}")
    return 0

"""Training speed, and the quality-over-time curve of the default recipe against the reference loop.

The yardstick is the one a user's sampler meets: 2000 random gaussian noise points carried by 100 Euler steps,
the exact W2 of those samples against 2000 fresh target points, divided by the floor, the mean W2 between that
target set and independent draws of the target. The same flow scored from scrambled Sobol noise points (the
experiment's evaluation draw) is reported beside it. "Seconds of training" is the CPU time of the training
thread (time.thread_time, torch on one thread), so a busy machine slows the bench without moving its figures;
evaluation is not counted. Each run trains one flow for a target and a seed and scores it at the checkpoints
CURVE_S, and on a grid from GRID_START_S (every GRID_GROWTH × the time so far) until it has held each line of
LINES; the time to a line is the first checkpoint from which the flow stays at or under it through HOLD × that
time. So a time to a line is resolved to one grid step: the flow first got there after the checkpoint before it.
Medians are taken over the seeds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields, replace
from multiprocessing import get_context
from pathlib import Path

import torch
from torch import nn

from rftoy.engine import data
from rftoy.engine.experiment import ExperimentConfig, fresh_net, seeded
from rftoy.engine.flow import Trainer, online_sampler, ot_assignment
from rftoy.live.rounds import RoundStack
from rftoy.protocol import Config
from rftoy.results import loadavg, results_path, write_section
from rftoy.settings import Settings
from rftoy.yardstick import Yardstick, samples, score, sliced_w2_bound, w2_matched, yardstick

CURVE_S = (0.5, 1.0, 3.0, 10.0, 30.0)
SOBOL_S = (1.0, 10.0)  # an exact W2 at n = 2000 costs an assignment, so Sobol is scored at two of them
LINES = (1.5, 1.25)
GRID_START_S = 0.05
GRID_GROWTH = 1.1
HOLD = 1.25
SECTION = "## Training (bench/train.py)"
SEEDS = tuple(range(10))  # a converged flow's score is set mostly by the seed's draws (docs/cli.md): five is too few
TARGETS = ("circle", "spiral", "moons")
LOOPS = ("reference", "default")
QUICK_HORIZON_S = 3.0

Loop = tuple[Callable[[], nn.Module], Callable[[], None]]


class TutorialNet(nn.Module):
    """The plain reference net: 3 hidden layers of 64, exact GELU, input (x, y, t)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 64), nn.GELU(), nn.Linear(64, 64), nn.GELU(),
                                 nn.Linear(64, 64), nn.GELU(), nn.Linear(64, 2))

    def forward(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=x.dtype).expand(x.shape[0])
        return self.net(torch.cat([x, t[:, None]], dim=1))


def reference_loop(target: str, gen: torch.Generator) -> Loop:
    """The tutorial's loop as a model getter and a one-step function: fresh random pairs every step, batch
    2048, Adam at lr 3e-3, no schedule, no average."""
    model = seeded(TutorialNet, gen)
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


def recipe_config(spec: str = "default") -> ExperimentConfig:
    """ExperimentConfig's defaults, changed by `+name=value` terms: `default+ema=0.999+width=128`.

    A name is a field of the train config, of the net shape or of the experiment config, in that order.
    """
    name, *changes = spec.split("+")
    if name != "default":
        raise ValueError(f"a recipe starts from 'default', not {name!r}")
    cfg = ExperimentConfig()
    for change in changes:
        key, _, text = change.partition("=")
        for owner in ("train", "net", None):
            holder = getattr(cfg, owner) if owner else cfg
            if key in {f.name for f in fields(holder)}:
                current = getattr(holder, key)
                value = text.lower() in ("1", "true") if isinstance(current, bool) else type(current)(text)
                holder = replace(holder, **{key: value})
                cfg = replace(cfg, **{owner: holder}) if owner else holder
                break
        else:
            raise ValueError(f"no recipe setting is called {key!r}")
    return cfg


def recipe_loop(target: str, gen: torch.Generator, spec: str = "default", batch: int | None = None) -> Loop:
    """rftoy's 1-RF recipe (ExperimentConfig's defaults, or `spec`'s changes to them) as a getter and a step."""
    cfg = recipe_config(spec)
    trainer = Trainer(fresh_net(cfg, gen), cfg.train)
    sampler = online_sampler("gaussian", target, cfg.coupling, gen)

    def step() -> None:
        trainer.step(*sampler(batch or trainer.batch_size()))

    return trainer.averaged_model, step


def live_loop(target: str, gen: torch.Generator, batch: int | None = None) -> Loop:
    """The live online mode's recipe: round 0 of a session on the default Config in online mode (its net, and
    rftoy.live.rounds.train_config: a constant rate and the weight average the page is shown), stepped on fresh
    pairs at the config's batch."""
    config = Config(mode="online")
    round_ = RoundStack(Settings(), torch.device("cpu"), config).current
    sampler = online_sampler("gaussian", target, "independent", gen)
    return lambda: round_.shown, lambda: round_.trainer.step(*sampler(batch or config.batch))


def make_loop(loop: str, target: str, gen: torch.Generator, batch: int | None = None) -> Loop:
    """The named loop; `batch` replaces a recipe's minibatch size (the reference's is 2048 already)."""
    if loop == "live":
        return live_loop(target, gen, batch)
    return reference_loop(target, gen) if loop == "reference" else recipe_loop(target, gen, loop, batch)


def checkpoints(horizon: float) -> list[float]:
    """The curve's checkpoints up to `horizon`, merged with the grid GRID_START_S · GRID_GROWTH^k."""
    count = math.floor(math.log(horizon / GRID_START_S, GRID_GROWTH) + 1e-9) + 1
    grid = {round(GRID_START_S * GRID_GROWTH**k, 6) for k in range(count)}
    return sorted(grid | {s for s in CURVE_S if s <= horizon})


@dataclass
class Curve:
    """One run: W2/floor at each curve checkpoint (random noise and Sobol), seconds to each line (None: not
    held within the horizon), steps taken by each curve checkpoint, and the machine's 1-minute load average
    when the run ended."""

    loop: str
    target: str
    seed: int
    ratio: dict[str, float]
    sobol: dict[str, float]
    reached: dict[str, float | None]
    steps: dict[str, int]
    load: float | None = field(default=None)


def time_to_line(scored: list[tuple[float, float]], line: float) -> float | None:
    """The first checkpoint from which the (checkpoint, W2/floor) pairs stay at or under `line` through HOLD ×
    that checkpoint; None if none has yet."""
    for i, (start, _) in enumerate(scored):
        held = list(itertools.takewhile(lambda pair: pair[1] <= line, scored[i:]))
        if held and held[-1][0] >= HOLD * start * (1 - 1e-9):
            return start
    return None


def quality_curve(loop: str, target: str, seed: int, horizon: float, stick: Yardstick,
                  with_sobol: bool = True) -> Curve:
    """Train `loop` on gaussian → target for `horizon` CPU seconds, scoring it as the module docstring says.

    A grid checkpoint skips the exact W2 when two bounds already place it on one side of every line not yet
    held: the lower bound (sliced_w2_bound) and the upper one of the last exact assignment, kept for the new
    samples. It records the upper bound then, which is on the right side of each of those lines.
    """
    current, step = make_loop(loop, target, data.generator(seed + 1))
    curve = Curve(loop, target, seed, {}, {}, {str(line): None for line in LINES}, {})
    scored: list[tuple[float, float]] = []
    match = None
    spent, steps = 0.0, 0
    for checkpoint in checkpoints(horizon):
        on_curve = checkpoint in CURVE_S
        open_lines = [line for line in LINES if curve.reached[str(line)] is None]
        if not on_curve and not open_lines:
            continue
        started = time.thread_time()
        while spent + time.thread_time() - started < checkpoint:
            step()
            steps += 1
        spent += time.thread_time() - started
        model = current()
        ends = samples(model, stick.noise)
        lower = sliced_w2_bound(ends, stick.target) / stick.floor
        ratio = math.inf if match is None else w2_matched(ends, stick.target[match]) / stick.floor
        if on_curve or any(lower <= line < ratio for line in open_lines):
            match = ot_assignment(ends, stick.target)
            ratio = w2_matched(ends, stick.target[match]) / stick.floor
        if on_curve:
            curve.ratio[str(checkpoint)], curve.steps[str(checkpoint)] = ratio, steps
            if with_sobol and checkpoint in SOBOL_S:
                curve.sobol[str(checkpoint)] = score(model, stick, sobol=True)
        scored.append((checkpoint, ratio))
        for line in open_lines:
            curve.reached[str(line)] = time_to_line(scored, line)
    curve.load = loadavg()
    return curve


def warm_up(loops: Sequence[str], target: str) -> None:
    """One torch thread, and a few steps of each loop: torch's first steps in a process pay one-off set-up costs
    that no timed loop should be charged."""
    torch.set_num_threads(1)
    for loop in loops:
        step = make_loop(loop, target, data.generator(0))[1]
        for _ in range(3):
            step()


def _curves_of(job: tuple[str, int, tuple[str, ...], float, bool]) -> list[Curve]:
    """Every loop's curve for one target and seed, on one thread (a worker process's job)."""
    target, seed, loops, horizon, with_sobol = job
    warm_up(loops, target)
    stick = yardstick(target, seed)
    curves = []
    for loop in loops:
        curves.append(quality_curve(loop, target, seed, horizon, stick, with_sobol))
        print(json.dumps(curves[-1].__dict__), file=sys.stderr, flush=True)  # progress, and screens read it
    return curves


def ms_per_step(loop: str, repeats: int = 50) -> float:
    """CPU milliseconds per training step at batch 2048 on one thread, fresh gaussian → moons samples included."""
    torch.set_num_threads(1)
    gen = data.generator(0)
    step = make_loop(loop, "moons", gen, 2048)[1]
    for _ in range(5):
        step()
    started = time.thread_time()
    for _ in range(repeats):
        step()
    return (time.thread_time() - started) / repeats * 1000


def median(values: list[float | None]) -> float | None:
    """The median, a run that never got there (None) counting as slower than any that did; None if it is one."""
    middle = statistics.median(math.inf if v is None else v for v in values)
    return None if math.isinf(middle) else middle


def summarize(curves: list[Curve]) -> dict:
    """Medians over the seeds of one loop and target: the curve, the Sobol curve and the time to each line."""
    keys = curves[0].ratio.keys()
    return {"ratio": {k: median([c.ratio[k] for c in curves]) for k in keys},
            "sobol": {k: median([c.sobol[k] for c in curves]) for k in curves[0].sobol},
            "reached": {k: median([c.reached[k] for c in curves]) for k in curves[0].reached}}


def run(loops: tuple[str, ...] = LOOPS, targets: tuple[str, ...] = TARGETS, seeds: tuple[int, ...] = SEEDS,
        horizon: float = max(CURVE_S), jobs: int = 1, with_sobol: bool = True) -> tuple[list[Curve], dict]:
    """Every curve (seed by seed, so a run cut short has every target) and the ms per step of each loop."""
    work = [(target, seed, loops, horizon, with_sobol) for seed in seeds for target in targets]
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
        curves = [curve for batch in pool.map(_curves_of, work) for curve in batch]
        speed = dict(zip(loops, pool.map(ms_per_step, loops), strict=True))
    return curves, speed


def read_curves(log: Path) -> list[Curve]:
    """The curves a run printed as progress lines (its stderr), to tabulate a run that was cut short."""
    return [Curve(**json.loads(line)) for line in log.read_text().splitlines() if line.startswith("{")]


def results_of(curves: list[Curve], horizon: float, speed: dict[str, float]) -> dict:
    """The JSON the bench prints: the medians of each target and loop, and every curve. Only the seeds that every
    loop run on a target finished count for it (a run cut short may have one loop's curve of a seed and not the
    other's); the logs of runs with different loops on different targets tabulate together."""
    loops = {c.target: list(dict.fromkeys(o.loop for o in curves if o.target == c.target)) for c in curves}
    finished = {(c.target, c.seed, c.loop) for c in curves}
    curves = [c for c in curves if all((c.target, c.seed, loop) in finished for loop in loops[c.target])]
    targets = list(dict.fromkeys(c.target for c in curves))
    median_curves = {target: {loop: summarize([c for c in curves if c.target == target and c.loop == loop])
                              for loop in loops[target]} for target in targets}
    seeds = {target: sorted({c.seed for c in curves if c.target == target}) for target in targets}
    machine = f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}"
    return {"machine": machine, "horizon_s": horizon, "seeds": seeds, "ms_per_step_batch2048": speed,
            "median": median_curves, "curves": [c.__dict__ for c in curves]}


def _figure(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{value:.2f}{unit}"


def table(results: dict) -> str:
    """Medians as a Markdown table: the random-noise curve, the lines, then the Sobol curve beside it."""
    horizon = results["horizon_s"]
    columns = [s for s in CURVE_S if s <= horizon]
    sobol_columns = [s for s in SOBOL_S if s <= horizon]
    head = ["target", "loop", "seeds", *(f"W2/floor at {s:g} s" for s in columns),
            *(f"time to {line}× floor" for line in LINES), f"to {LINES[0]}×: sooner than reference",
            f"Sobol noise: W2/floor at {', '.join(f'{s:g}' for s in sobol_columns)} s"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for target, loops in results["median"].items():
        for loop, m in loops.items():
            reached = [_figure(m["reached"][str(line)], " s") if m["reached"][str(line)] is not None
                       else f"> {horizon:g} s" for line in LINES]
            sobol = " / ".join(_figure(m["sobol"].get(str(s))) for s in sobol_columns) if m["sobol"] else "—"
            plain, ours = (loops.get("reference", {}).get("reached", {}).get(str(LINES[0])),
                           m["reached"][str(LINES[0])])
            sooner = "—" if loop == "reference" or not ours else (
                f"{plain / ours:.1f}×" if plain else f"> {horizon / ours:.1f}× (reference: > {horizon:g} s)")
            lines.append("| " + " | ".join([target, loop, str(len(results["seeds"][target])),
                                            *(_figure(m["ratio"][str(s)]) for s in columns), *reached, sooner,
                                            sobol]) + " |")
    return "\n".join(lines)


def _how_loaded(results: dict) -> str:
    loads = [c["load"] for c in results["curves"] if c.get("load") is not None]
    before = results.get("loadavg_before")
    parts = ([f"{before:.1f} at the start"] if before is not None else []) + (
        [f"{min(loads):.1f} to {max(loads):.1f} as runs ended"] if loads else [])
    return f"1-minute load average {', '.join(parts)}" if parts else "load average not recorded"


def main(quick: bool = False, seeds: tuple[int, ...] | None = None, loops: tuple[str, ...] = LOOPS,
         targets: tuple[str, ...] = TARGETS, horizon: float | None = None, jobs: int = 1,
         write: bool = True, from_log: Path | None = None, results_file: Path | None = None) -> int:
    """Run the bench (or read the curves of one from its log), print JSON and the table; write the table's
    section into `results_path(results_file)` unless `write` is False."""
    horizon = horizon or (QUICK_HORIZON_S if quick else max(CURVE_S))
    target_file = results_path(results_file)
    load_before, started = loadavg(), time.perf_counter()
    if from_log:
        curves, speed = read_curves(from_log), {}
    else:
        curves, speed = run(loops, targets, seeds or (SEEDS[:1] if quick else SEEDS), horizon, jobs, not quick)
    results = results_of(curves, horizon, speed)
    results.update(wall_s=round(time.perf_counter() - started, 1), loadavg_before=None if from_log else load_before)
    print(json.dumps(results, indent=2))
    rendered = table(results)
    print(rendered)
    if write:
        how = f"read from a run's log (`--from-log`); {_how_loaded(results)}" if from_log else (
            f"{results['wall_s']:.0f} s wall; {_how_loaded(results)}")
        options = "".join(f" --{name} {','.join(value)}" for name, value, default in
                          (("targets", targets, TARGETS), ("loops", loops, LOOPS)) if tuple(value) != default)
        options += f" --horizon {horizon:g}" if horizon != max(CURVE_S) else ""
        options += " --quick" * quick + (f" --seeds {','.join(map(str, seeds))}" if seeds else "")
        command = f"--from-log {from_log.name}" if from_log else f"--jobs {jobs}{options}"
        note = (f"`python bench/train.py {command}` on {results['machine']}; medians over the seeds; "
                f"seconds are CPU seconds of the training thread (torch on one thread), evaluation not counted; "
                f"a time to a line is the first grid checkpoint from which the flow held it (grid step "
                f"{GRID_GROWTH - 1:.0%}, so the flow got there within {GRID_GROWTH - 1:.0%} before); {how}.")
        speeds = ", ".join(f"{loop} {ms:.2f} ms" for loop, ms in speed.items())
        tail = f"\n\nCPU ms per training step at batch 2048, one thread: {speeds}." if speed else ""
        write_section(target_file, SECTION, f"{note}\n\n{rendered}{tail}")
        print(f"wrote the section {SECTION!r} of {target_file}", file=sys.stderr)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The bench's options (bench/train.py and `rftoy bench`)."""
    parser.add_argument("--quick", action="store_true", help="one seed, a 3 s horizon, no Sobol scores")
    parser.add_argument("--seeds", type=lambda text: tuple(int(seed) for seed in text.split(",")),
                        help="comma-separated seeds (default 0-9; --quick: 0)")
    parser.add_argument("--loops", type=lambda text: tuple(text.split(",")), default=LOOPS,
                        help="'reference', 'default', 'default+name=value+...' (a changed recipe), or 'live' (the "
                        "live online mode's recipe)")
    parser.add_argument("--targets", type=lambda text: tuple(text.split(",")), default=TARGETS)
    parser.add_argument("--horizon", type=float, help="CPU seconds of training per run (default 30; --quick: 3)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes, one torch thread each")
    parser.add_argument("--from-log", type=Path, help="tabulate the curves a run printed to stderr (one cut short)")
    parser.add_argument("--results", type=Path, help="the Markdown file whose Training section the bench writes "
                        "(default: bench/RESULTS.md in a source checkout, else ./RESULTS.md)")
    parser.add_argument("--no-write", dest="write", action="store_false", help="write no results file")


def main_from_args(args: argparse.Namespace) -> int:
    return main(args.quick, args.seeds, args.loops, args.targets, args.horizon, args.jobs, args.write,
                args.from_log, args.results)

"""The batched trainer on a GPU: training steps/s, trace ms per session, and sessions served at >= 10 snapshots/s.

Three measurements on one device (CUDA by default; `--device cpu` runs the same code small, for the tests):

1. **Steps**: S nets (width 64, depth 3, silu, 256 pairs each, minibatch 256) take batched Adam steps. Variants:
   `server` is rftoy.engine.batched.batched_step as the server calls it (each trainer's own Adam state, its own
   learning rate and time draws); `stacked` is the same step with the parameters and Adam state kept stacked
   (what a graph-captured step needs: fixed tensors); `graph` replays `stacked` captured in one CUDA graph;
   `compile` runs `stacked` with its loss under torch.compile, and `compile-graphs` with
   mode="reduce-overhead" (torch.compile's own CUDA graphs). Reported: net-steps/s (S x steps per second).
2. **Traces**: rftoy.engine.batched.stacked_solve of S nets (256 points, midpoint x 12), ms per session.
3. **Sessions**: `rftoy serve` on the device, N sessions each dragging one point at 30 Hz (bench/latency.py's
   client); the largest N whose least served session got >= 10 snapshots/s.

Prints JSON and a table; rewrites its section of bench/RESULTS.md (unless --no-write). Under five minutes on a
CUDA machine with the defaults.

    python bench/gpu.py                                            # CUDA
    python bench/gpu.py --device cpu --nets 2 --seconds 0.2 --sessions 1 --session-seconds 2 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from latency import RESULTS, run_clients, scenario
from rftoy.engine import data
from rftoy.engine.batched import batched_step, stacked_parameters, stacked_solve
from rftoy.engine.flow import TrainConfig, Trainer, fixed_pair_sampler
from rftoy.engine.model import ACTIVATIONS, NetShape, VelocityMLP
from rftoy.results import write_section

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))
from loopback import Replica, free_port

SECTION = "## The batched trainer on a device (bench/gpu.py)"
SHAPE = NetShape(64, 3, "silu")
PAIRS = 256
BATCH = 256
TRACE_STEPS = 12
TARGET_HZ = 10.0
VARIANTS = ["server", "stacked", "graph", "compile", "compile-graphs"]
CUDA_ONLY = {"graph", "compile-graphs"}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(step: Callable[[], object], device: torch.device, seconds: float, warmup: int = 3) -> float:
    """Calls per second of `step` over about `seconds` (after `warmup` calls), waiting for the device."""
    for _ in range(warmup):
        step()
    sync(device)
    calls, start = 0, time.perf_counter()
    while True:
        step()
        calls += 1
        if calls % 8 == 0 or device.type == "cpu":
            sync(device)
            if time.perf_counter() - start >= seconds:
                return calls / (time.perf_counter() - start)


def scenes(count: int, device: torch.device) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = data.generator(0)
    return [(data.sample("gaussian", PAIRS, gen).to(device), data.sample("moons", PAIRS, gen).to(device))
            for _ in range(count)]


def server_step(count: int, device: torch.device) -> Callable[[], object]:
    """rftoy.engine.batched.batched_step over `count` trainers, as the server's worker calls it."""
    trainers = [Trainer(VelocityMLP(SHAPE).to(device), TrainConfig(lr=5e-3, batch=BATCH, seed=k))
                for k in range(count)]
    samplers = [fixed_pair_sampler(x0, x1, data.generator(k, device))
                for k, (x0, x1) in enumerate(scenes(count, device))]
    return lambda: batched_step(trainers, [draw(BATCH) for draw in samplers])


class StackedStep:
    """The batched step on stacked tensors that never move: parameters (S, out, in) / (S, out) as leaves, one
    Adam over them, the pairs in fixed buffers, times drawn on the device. What a CUDA graph can capture."""

    def __init__(self, count: int, device: torch.device, compile_mode: str | None = None) -> None:
        models = [VelocityMLP(SHAPE).to(device) for _ in range(count)]
        self.params = [p.clone().requires_grad_() for p in stacked_parameters(models)]
        capturable = device.type == "cuda"
        self.optimizer = torch.optim.Adam(self.params, lr=5e-3, fused=True, capturable=capturable)
        pairs = scenes(count, device)
        self.x0 = torch.stack([x0 for x0, _ in pairs])
        self.x1 = torch.stack([x1 for _, x1 in pairs])
        self.loss = torch.compile(self._loss, mode=compile_mode) if compile_mode is not None else self._loss
        self.losses: torch.Tensor | None = None

    def _loss(self, params: list[torch.Tensor], x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        act = ACTIVATIONS[SHAPE.activation]
        h = torch.cat([t[..., None] * x1 + (1 - t[..., None]) * x0, t[..., None]], dim=2)
        last = len(params) // 2 - 1
        for index, (w, b) in enumerate(zip(params[0::2], params[1::2], strict=True)):
            h = torch.baddbmm(b[:, None, :], h, w.transpose(1, 2))
            if index < last:
                h = act(h)
        return ((x1 - x0) - h).square().sum(dim=2).mean(dim=1)

    def __call__(self) -> torch.Tensor:
        t = torch.rand(self.x0.shape[:2], device=self.x0.device)
        losses = self.loss(self.params, self.x0, self.x1, t)
        self.optimizer.zero_grad(set_to_none=False)
        losses.sum().backward()
        self.optimizer.step()
        self.losses = losses.detach()
        return self.losses


def graph_step(count: int, device: torch.device) -> Callable[[], object]:
    """`StackedStep` captured once in a CUDA graph (warmed up on a side stream first, as torch's docs say)."""
    step = StackedStep(count, device)
    side = torch.cuda.Stream(device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        for _ in range(3):
            step()
    torch.cuda.current_stream(device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return graph.replay


def make_step(variant: str, count: int, device: torch.device) -> Callable[[], object]:
    if variant == "server":
        return server_step(count, device)
    if variant == "graph":
        return graph_step(count, device)
    modes = {"stacked": None, "compile": "default", "compile-graphs": "reduce-overhead"}
    return StackedStep(count, device, compile_mode=modes[variant])


def step_rates(device: torch.device, counts: list[int], variants: list[str], seconds: float) -> list[dict[str, Any]]:
    rows = []
    for variant in variants:
        for count in counts:
            row: dict[str, Any] = {"variant": variant, "nets": count}
            if variant in CUDA_ONLY and device.type != "cuda":
                rows.append({**row, "skipped": "needs CUDA"})
                continue
            try:
                started = time.perf_counter()
                step = make_step(variant, count, device)
                step()
                sync(device)
                row["setup_s"] = round(time.perf_counter() - started, 2)
                rate = timed(step, device, seconds)
                row["net_steps_per_s"] = round(rate * count)
                row["ms_per_step"] = round(1000 / rate, 3)
            except Exception as error:  # a variant that fails here (no compiler, a graph-unsafe op) is reported
                row["skipped"] = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def trace_costs(device: torch.device, counts: list[int], seconds: float) -> list[dict[str, Any]]:
    """ms per session of stacked_solve, midpoint x TRACE_STEPS over PAIRS points."""
    rows = []
    for count in counts:
        models = [VelocityMLP(SHAPE).to(device) for _ in range(count)]
        starts = [x0 for x0, _ in scenes(count, device)]
        rate = timed(lambda m=models, s=starts: stacked_solve(m, s, TRACE_STEPS, "midpoint"), device, seconds)
        rows.append({"nets": count, "trace_ms": round(1000 / rate, 3),
                     "trace_ms_per_session": round(1000 / rate / count, 4)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def sessions_served(device: str, counts: list[int], seconds: float) -> list[dict[str, Any]]:
    """`rftoy serve` on `device` with N dragged sessions each; their snapshots/s and latency."""
    import tempfile

    rows = []
    most = max(counts)
    env = {"RFTOY_DEVICE": device, "RFTOY_MAX_SESSIONS": str(2 * most), "RFTOY_MAX_SESSIONS_PER_CLIENT": str(2 * most)}
    with tempfile.TemporaryDirectory(prefix="rftoy-gpu-bench-") as folder:
        replica = Replica(Path(folder), free_port(), env).start()
        try:
            replica.wait()
            url = replica.url.replace("http:", "ws:") + "/ws"
            for count in counts:
                row = run_clients(scenario(url, count, PAIRS, {"width": SHAPE.width}, seconds, replica.process.pid))
                rows.append({key: row[key] for key in ("sessions", "min_snapshots_per_s", "snapshots_per_s",
                                                       "steps_per_s", "p50_ms", "p95_ms", "coarse_share",
                                                       "server_cores")})
                print(json.dumps(rows[-1]), flush=True)
        finally:
            replica.stop()
    return rows


def served_at_target(rows: list[dict[str, Any]]) -> int:
    """The most sessions measured whose least served one got TARGET_HZ snapshots/s (0 if none)."""
    return max((r["sessions"] for r in rows if r["min_snapshots_per_s"] >= TARGET_HZ), default=0)


def table(result: dict[str, Any]) -> str:
    lines = ["| variant | nets | net-steps/s | ms per step | setup s |", "|---|---:|---:|---:|---:|"]
    for r in result["steps"]:
        if "skipped" in r:
            lines.append(f"| {r['variant']} | {r['nets']} | skipped: {r['skipped']} | | |")
        else:
            lines.append(f"| {r['variant']} | {r['nets']} | {r['net_steps_per_s']} | {r['ms_per_step']} | "
                         f"{r['setup_s']} |")
    lines += ["", "| nets traced together | ms per trace call | ms per session |", "|---:|---:|---:|"]
    lines += [f"| {r['nets']} | {r['trace_ms']} | {r['trace_ms_per_session']} |" for r in result["traces"]]
    lines += ["", "| dragged sessions | snapshots/s per session (least, mean) | steps/s (all) | p50 / p95 ms "
              "| coarse |", "|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['sessions']} | {r['min_snapshots_per_s']}, {r['snapshots_per_s']} | {r['steps_per_s']} | "
              f"{r['p50_ms']} / {r['p95_ms']} | {r['coarse_share']:.0%} |" for r in result["sessions"]]
    lines += ["", f"Sessions served at >= {TARGET_HZ:g} snapshots/s each: {result['served_at_10_hz']} "
              f"(the most of those measured)."]
    return "\n".join(lines)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda}"
    return f"{platform.machine()} CPU, {os.cpu_count()} cores"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:1, or cpu for a small check")
    parser.add_argument("--nets", type=int, nargs="+", default=[1, 32, 256], help="nets stepped together")
    parser.add_argument("--variants", nargs="+", default=VARIANTS, choices=VARIANTS)
    parser.add_argument("--seconds", type=float, default=2.0, help="timing per step or trace measurement")
    parser.add_argument("--sessions", type=int, nargs="*", default=[32, 64, 128, 256],
                        help="dragged sessions per server scenario (none: skip the server)")
    parser.add_argument("--session-seconds", type=float, default=8.0)
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a `kill` stops the servers it started
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("bench/gpu.py: torch sees no CUDA device here; run it on a GPU machine, or with --device cpu for a "
              "small check", file=sys.stderr)
        return 2
    if device.type == "cpu":
        torch.set_num_threads(1)  # as the server's threads run (RFTOY_TORCH_THREADS): no spinning OpenMP team
    started = time.perf_counter()
    torch.manual_seed(0)
    result: dict[str, Any] = {"device": device_name(device), "torch": torch.__version__}
    result["steps"] = step_rates(device, args.nets, args.variants, args.seconds)
    result["traces"] = trace_costs(device, args.nets, args.seconds)
    result["sessions"] = sessions_served(args.device, args.sessions, args.session_seconds) if args.sessions else []
    result["served_at_10_hz"] = served_at_target(result["sessions"])
    result["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))
    rendered = table(result)
    print(rendered)
    if not args.no_write:
        command = " ".join(["python bench/gpu.py", *sys.argv[1:]])
        body = (f"`{command}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {result['device']}, torch "
                f"{torch.__version__}, {result['wall_s']} s in all.\n\n{rendered}\n\nNets: width {SHAPE.width}, "
                f"depth {SHAPE.depth}, {SHAPE.activation}, {PAIRS} pairs, minibatch {BATCH}; traces midpoint x "
                f"{TRACE_STEPS}. "
                "net-steps/s counts every net's step (S x calls per second). `server` is the server's own step; "
                "the other variants keep the Adam state stacked (see the script's docstring).")
        write_section(RESULTS, SECTION, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `rftoy` command: `serve` the toy, run a headless `experiment`, or `bench` the trainer."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from rftoy.engine import data
from rftoy.engine.device import resolve_device
from rftoy.engine.experiment import ExperimentConfig, run_experiment
from rftoy.engine.model import ACTIVATIONS, NetShape


def _add_experiment(sub: argparse._SubParsersAction) -> None:
    defaults = ExperimentConfig()
    p = sub.add_parser("experiment", help="train 1-RF and reflow rounds headless and print the metrics")
    p.add_argument("--source", default=defaults.source, choices=list(data.PRESETS))
    p.add_argument("--target", default=defaults.target, choices=list(data.PRESETS))
    p.add_argument("--n", type=int, default=defaults.n, help="evaluation points (and the pair set in pairs mode)")
    p.add_argument("--rounds", type=int, default=defaults.rounds, help="1 is 1-RF alone, 2 adds one reflow")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--mode", default=defaults.mode, choices=["online", "pairs"])
    p.add_argument("--coupling", default=defaults.coupling, choices=["independent", "ot"],
                   help="the first round's pairing (online mode)")
    p.add_argument("--steps", type=int, default=defaults.train.steps, help="training steps of 1-RF")
    p.add_argument("--reflow-steps", type=int, default=defaults.reflow_steps, help="training steps per reflow")
    p.add_argument("--batch", type=int, default=defaults.train.batch)
    p.add_argument("--lr", type=float, default=defaults.train.lr)
    p.add_argument("--time-sampling", default=defaults.train.time_sampling,
                   choices=["uniform", "warp", "logit-normal"])
    p.add_argument("--warp-s", type=float, default=defaults.train.warp_s)
    p.add_argument("--width", type=int, default=defaults.net.width)
    p.add_argument("--depth", type=int, default=defaults.net.depth)
    p.add_argument("--activation", default=defaults.net.activation, choices=list(ACTIVATIONS))
    p.add_argument("--distill", action="store_true", help="also distill the last round into one step")
    p.add_argument("--random-eval", action="store_true",
                   help="score with an ordinary random draw of noise points instead of a low-discrepancy one")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--out", type=Path, help="write the point sets to this .npz file")


def _experiment_config(args: argparse.Namespace) -> ExperimentConfig:
    defaults = ExperimentConfig()
    return ExperimentConfig(
        source=args.source, target=args.target, n=args.n, rounds=args.rounds, seed=args.seed, mode=args.mode,
        coupling=args.coupling, net=NetShape(args.width, args.depth, args.activation),
        train=replace(defaults.train, steps=args.steps, batch=args.batch, lr=args.lr,
                      time_sampling=args.time_sampling, warp_s=args.warp_s, seed=args.seed),
        reflow_steps=args.reflow_steps, distill=args.distill, low_discrepancy_x0=not args.random_eval)


def _print_table(summary: dict) -> None:
    print(f"W2 floor (fresh target draws against the scoring set, mean of 4): {summary['w2_floor']:.4f}")
    print(f"{'round':<16}{'crossing %':>11}{'E|d|^2':>9}{'straight':>10}{'W2@1':>8}{'W2@8':>8}{'W2@100':>8}{'s':>7}")
    for r in summary["rounds"]:
        w2 = r.get("w2", {})
        cells = [f"{r['crossing'] * 100:>11.2f}", f"{r['cost_sq']:>9.3f}",
                 f"{r['straightness_norm']:>10.4f}" if "straightness_norm" in r else f"{'':>10}"]
        cells += [f"{w2[k]:>8.3f}" if k in w2 else f"{'':>8}" for k in ("1", "8", "100")]
        cells.append(f"{r['train_seconds']:>7.1f}" if "train_seconds" in r else f"{'':>7}")
        print(f"{r['name']:<16}" + "".join(cells))


def run_experiment_command(args: argparse.Namespace) -> int:
    cfg = _experiment_config(args)
    try:
        device = resolve_device(args.device)
    except RuntimeError as error:
        print(f"rftoy: {error}", file=sys.stderr)
        return 2
    log = None if args.json else print
    result = run_experiment(cfg, device, log)
    if args.out:
        np.savez_compressed(args.out, **{k: v.cpu().numpy() for k, v in result.arrays.items()})
    if args.json:
        print(json.dumps(result.summary))
    else:
        _print_table(result.summary)
    return 0


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="start the toy's web server")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1, or RFTOY_HOST)")
    p.add_argument("--port", type=int, help="port (default 8000, or RFTOY_PORT; 0 takes a free one)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where training runs (default auto)")


def run_serve_command(args: argparse.Namespace) -> int:
    from rftoy.api.app import run_server

    overrides = {k: v for k, v in {"host": args.host, "port": args.port, "device": args.device}.items()
                 if v is not None}
    run_server(**overrides)
    return 0


def _add_bench(sub: argparse._SubParsersAction) -> None:
    from rftoy.benchmark import add_arguments

    add_arguments(sub.add_parser("bench", help="training speed and time-to-quality (docs/cli.md)"))


def run_bench_command(args: argparse.Namespace) -> int:
    from rftoy.benchmark import main_from_args

    return main_from_args(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rftoy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_serve(sub)
    _add_experiment(sub)
    _add_bench(sub)
    args = parser.parse_args(argv)
    commands = {"serve": run_serve_command, "experiment": run_experiment_command, "bench": run_bench_command}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

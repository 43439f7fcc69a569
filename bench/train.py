"""The quality-over-time curve of the default recipe against the reference loop: prints JSON and a table, updates
bench/RESULTS.md (see rftoy.benchmark). Screens: `--loops reference,default+ema=0.999 --horizon 10 --no-write`."""

import argparse
import sys
from pathlib import Path

from rftoy.benchmark import main


def names(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


def seed_list(text: str) -> tuple[int, ...]:
    return tuple(int(seed) for seed in text.split(","))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one seed, a 3 s horizon, no Sobol scores")
    parser.add_argument("--seeds", type=seed_list, help="comma-separated seeds (default 0-4; --quick: 0)")
    parser.add_argument("--loops", type=names, default=("reference", "default"),
                        help="'reference', 'default', or 'default+name=value+...' (a changed recipe)")
    parser.add_argument("--targets", type=names, default=("circle", "spiral", "moons"))
    parser.add_argument("--horizon", type=float, help="CPU seconds of training per run (default 30; --quick: 3)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes, one torch thread each")
    parser.add_argument("--from-log", type=Path, help="tabulate the curves a run printed to stderr (one cut short)")
    parser.add_argument("--no-write", dest="write", action="store_false", help="leave bench/RESULTS.md alone")
    args = parser.parse_args()
    sys.exit(main(args.quick, args.seeds, args.loops, args.targets, args.horizon, args.jobs, args.write,
                  args.from_log))

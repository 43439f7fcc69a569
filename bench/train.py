"""Training speed and time-to-quality: prints JSON and a table, updates bench/RESULTS.md (see rftoy.benchmark)."""

import argparse
import sys

from rftoy.benchmark import main


def seed_list(text: str) -> tuple[int, ...]:
    return tuple(int(seed) for seed in text.split(","))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one seed and shorter budgets, for a smoke run")
    parser.add_argument("--seeds", type=seed_list, help="comma-separated seeds (default 0,1,2; --quick: 0)")
    args = parser.parse_args()
    sys.exit(main(quick=args.quick, seeds=args.seeds))

"""Training speed and time-to-quality: prints JSON and a table, updates bench/RESULTS.md (see rftoy.benchmark)."""

import argparse
import sys

from rftoy.benchmark import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter budgets, for a smoke run")
    sys.exit(main(quick=parser.parse_args().quick))

"""The quality-over-time curve of the default recipe against the reference loop: prints JSON and a table, updates
bench/RESULTS.md (see rftoy.benchmark). Screens: `--loops reference,default+ema=0.999 --horizon 10 --no-write`."""

import argparse
import sys

from rftoy.benchmark import add_arguments, main_from_args

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    sys.exit(main_from_args(parser.parse_args()))

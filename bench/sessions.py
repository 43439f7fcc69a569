"""Many sessions on one box: the batched trainer against one training task per session.

For each trainer (RFTOY_TRAINER=batched, then per-session) it starts `rftoy serve` and, for 1, 8, 32 and 64
concurrent sessions (N = 256 pairs, width 64), drags one point of every session at 30 Hz (bench/latency.py's
client) and reports: aggregate training steps/s (from the snapshots' step counters), the drag → update latency
p50/p95 over all sessions, snapshots/s per session (mean and the least served session), the share of snapshots a
busy server traced coarse (Euler on half the steps, rftoy.live.pace), the server's CPU and the CPU time the
hypervisor took. Prints JSON and a table, and rewrites its section of bench/RESULTS.md (its own section for a
non-default scene, config or --busy-hz).

    python bench/sessions.py                        # both trainers, 1 8 32 64 sessions, 10 s each
    python bench/sessions.py --sessions 32 --trainers batched --seconds 5 --no-write
    python bench/sessions.py --busy-hz 0            # full traces however slow (RFTOY_BUSY_SNAPSHOT_HZ=0)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Any

import torch
from latency import RESULTS, add_drag_arguments, local_server, run_clients, scenario
from rftoy.results import write_section
from rftoy.settings import Settings

SECTION = "## Many sessions (bench/sessions.py)"
GOAL_SESSIONS = 32
BUSY_HZ = Settings().busy_snapshot_hz
GOALS = {"steps_ratio": 2.0, "min_snapshots_per_s": 10.0, "p95_ms": 400.0}


def run(trainers: list[str], counts: list[int], n: int, config: dict[str, Any], seconds: float,
        busy_hz: float) -> list[dict[str, Any]]:
    rows = []
    for trainer in trainers:
        settings = {"RFTOY_TRAINER": trainer, "RFTOY_MAX_SESSIONS_PER_CLIENT": str(2 * max(counts)),
                    "RFTOY_MAX_SESSIONS": str(2 * max(counts)),  # room while the last scenario closes
                    "RFTOY_BUSY_SNAPSHOT_HZ": str(busy_hz)}
        with local_server(settings) as (url, pid):
            for count in counts:
                row = run_clients(scenario(url, count, n, config, seconds, pid))
                rows.append({"trainer": trainer, **row})
                print(json.dumps(rows[-1]), flush=True)
    return rows


def verdict(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's goals at GOAL_SESSIONS sessions, where both trainers were measured."""
    at = {r["trainer"]: r for r in rows if r["sessions"] == GOAL_SESSIONS}
    if "batched" not in at:
        return {}
    batched = at["batched"]
    found: dict[str, Any] = {"min_snapshots_per_s": batched["min_snapshots_per_s"], "p95_ms": batched["p95_ms"]}
    if "per-session" in at and at["per-session"]["steps_per_s"]:
        found["steps_ratio"] = round(batched["steps_per_s"] / at["per-session"]["steps_per_s"], 2)
    found["met"] = {name: (value <= GOALS[name] if name == "p95_ms" else value >= GOALS[name])
                    for name, value in found.items()}
    return found


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| trainer | sessions | steps/s (all sessions) | p50 ms | p95 ms | snapshots/s per session (mean, least) "
             "| coarse traces | server CPU (cores) | stolen (cores) |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        cores, stolen = (r[name] if r.get(name) is not None else "?" for name in ("server_cores", "stolen_cores"))
        lines.append(f"| {r['trainer']} | {r['sessions']} | {r['steps_per_s']} | {r['p50_ms']} | {r['p95_ms']} | "
                     f"{r['snapshots_per_s']}, {r['min_snapshots_per_s']} | {r['coarse_share']:.0%} | {cores} | "
                     f"{stolen} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_drag_arguments(parser, [1, 8, 32, 64])
    parser.add_argument("--trainers", nargs="+", default=["batched", "per-session"],
                        choices=["batched", "per-session"])
    parser.add_argument("--busy-hz", type=float, default=BUSY_HZ,
                        help="the server's RFTOY_BUSY_SNAPSHOT_HZ: drags slower than this get coarse traces; 0 never")
    args = parser.parse_args()
    rows = run(args.trainers, args.sessions, args.n, {**args.config, "width": args.width}, args.seconds, args.busy_hz)
    goals = verdict(rows)
    print(json.dumps({"rows": rows, "goals_at_32": goals}))
    rendered = table(rows)
    print(rendered)
    if goals:
        print(json.dumps(goals))
    if not args.no_write:
        machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}"
        command = " ".join(["python bench/sessions.py", *sys.argv[1:]])
        body = (f"`{command}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine}; the clients run "
                f"on the same cores.\n\n{rendered}\n\nEvery session drags one point at 30 Hz. 'stolen': CPU time the "
                f"hypervisor gave elsewhere during the scenario (a run that lost much measured a smaller machine). "
                f"At {GOAL_SESSIONS} "
                f"sessions: {json.dumps(goals)} (goals: batched ≥ {GOALS['steps_ratio']}× the per-session steps/s, "
                f"every session ≥ {GOALS['min_snapshots_per_s']:g} snapshots/s, p95 ≤ {GOALS['p95_ms']:g} ms).")
        custom = args.n != 256 or args.width != 64 or args.config or args.busy_hz != BUSY_HZ
        busy = f", busy_snapshot_hz {args.busy_hz:g}" if args.busy_hz != BUSY_HZ else ""
        heading = (f"{SECTION[:-1]}, {args.n} pairs, {json.dumps({**args.config, 'width': args.width})}{busy})"
                   if custom else SECTION)
        write_section(RESULTS, heading, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Replicas behind nginx on one machine: dragged sessions served at >= 10 snapshots/s each by one replica reached
directly, one behind nginx, and two behind nginx (deploy/loopback.py: the compose topology without Docker).

Every session drags one point at 30 Hz (bench/latency.py's client; N = 256 pairs, width 64). For each setup and
session count it reports the least served session's snapshots/s, the mean, p50/p95 drag latency, steps/s, the
share of coarse traces and the replicas' CPU; "served" is the largest count whose least served session got >= 10
snapshots/s. Both replicas share this machine's cores, so the two-replica figure against one measures the
overhead and fairness of splitting sessions over processes and a proxy hop, not added capacity; the one-replica
figure is what one box of this size serves, the number that sizes N. Prints JSON and a table, and rewrites its
section of bench/RESULTS.md (unless --no-write).

    python bench/scaleout.py                                  # 16 24 32 40 sessions, 8 s each: about 4 minutes
    python bench/scaleout.py --sessions 24 --seconds 5 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from latency import RESULTS, cpu_seconds, run_clients, scenario
from rftoy.results import write_section

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))
from loopback import Nginx, Replica, free_port

SECTION = "## Replicas behind nginx (bench/scaleout.py)"
TARGET_HZ = 10.0
PAIRS = 256
CONFIG = {"width": 64}


def measure(url: str, count: int, seconds: float, pids: list[int]) -> dict[str, Any]:
    """One scenario; the CPU is summed over the replicas' processes."""
    load = os.getloadavg()
    before, wall = [cpu_seconds(pid) for pid in pids], time.perf_counter()
    row = run_clients(scenario(url, count, PAIRS, CONFIG, seconds, None))
    after, wall = [cpu_seconds(pid) for pid in pids], time.perf_counter() - wall
    cores = None if None in before or None in after else round((sum(after) - sum(before)) / wall, 2)
    return {"sessions": count, "min_snapshots_per_s": row["min_snapshots_per_s"],
            "snapshots_per_s": row["snapshots_per_s"], "steps_per_s": row["steps_per_s"], "p50_ms": row["p50_ms"],
            "p95_ms": row["p95_ms"], "coarse_share": row["coarse_share"], "replica_cores": cores,
            "stolen_cores": row["stolen_cores"], "loadavg": [round(x, 2) for x in load]}


def settle(replicas: list[Replica], timeout: float = 60.0) -> None:
    """Wait until the last scenario's sessions have closed on every replica."""
    deadline = time.monotonic() + timeout
    while any(r.get("/api/metrics")["sessions"] for r in replicas) and time.monotonic() < deadline:
        time.sleep(0.5)


def run(counts: list[int], seconds: float) -> list[dict[str, Any]]:
    rows = []
    most = 4 * max(counts)  # room while the last scenario's sessions close
    env = {"RFTOY_MAX_SESSIONS": str(most), "RFTOY_MAX_SESSIONS_PER_CLIENT": str(most), "RFTOY_TORCH_THREADS": "1"}
    with tempfile.TemporaryDirectory(prefix="rftoy-scaleout-") as tmp:
        folder = Path(tmp)
        replicas = [Replica(folder, free_port(), env).start() for _ in range(2)]
        balancers: list[Nginx] = []
        try:
            for replica in replicas:
                replica.wait()
            for used in (1, 2):
                balancers.append(Nginx(folder / f"nginx-{used}", [r.port for r in replicas[:used]],
                                       sockets_per_address=most, request_rate="1000r/s").start())
            ws = lambda base: base.replace("http:", "ws:") + "/ws"  # noqa: E731
            setups = [("1 replica, direct", ws(replicas[0].url), replicas[:1]),
                      ("1 replica behind nginx", ws(balancers[0].url), replicas[:1]),
                      ("2 replicas behind nginx", ws(balancers[1].url), replicas)]
            for name, url, used in setups:
                for count in counts:
                    row = {"setup": name, "replicas": len(used),
                           **measure(url, count, seconds, [r.process.pid for r in used])}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    settle(used)
        finally:
            for balancer in balancers:
                balancer.stop()
            for replica in replicas:
                replica.stop()
    return rows


def served(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Per setup, the most sessions measured whose least served one got TARGET_HZ snapshots/s (0 if none)."""
    found: dict[str, int] = {}
    for r in rows:
        ok = r["min_snapshots_per_s"] >= TARGET_HZ
        found[r["setup"]] = max(found.get(r["setup"], 0), r["sessions"] if ok else 0)
    return found


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| setup | sessions | snapshots/s per session (least, mean) | steps/s (all) | p50 / p95 ms | coarse "
             "| replicas' CPU (cores) | stolen | load (1 min) |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['setup']} | {r['sessions']} | {r['min_snapshots_per_s']}, {r['snapshots_per_s']} | "
                     f"{r['steps_per_s']} | {r['p50_ms']} / {r['p95_ms']} | {r['coarse_share']:.0%} | "
                     f"{r['replica_cores'] if r['replica_cores'] is not None else '?'} | "
                     f"{r['stolen_cores'] if r['stolen_cores'] is not None else '?'} | {r['loadavg'][0]} |")
    return "\n".join(lines)


def body(rows: list[dict[str, Any]], summary: dict[str, Any], command: str) -> str:
    """This bench's section of RESULTS.md."""
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}"
    load = " / ".join(f"{x:.1f}" for x in summary["loadavg_at_start"])
    found = summary["served_at_10_hz"]
    text = (f"`{command}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine}; the replicas, nginx "
            f"and the clients all share these cores; load average at the start {load} (1 / 5 / 15 min).\n\n"
            f"{table(rows)}\n\nSessions served at >= {TARGET_HZ:g} snapshots/s each (the most of those measured): "
            f"{json.dumps(found)}. ")
    # the load while it runs is mostly its own replicas, nginx and clients: judge other work by the start
    if summary["loadavg_at_start"][0] > (os.cpu_count() or 1):
        cores = max((r["replica_cores"] or 0) for r in rows)
        return text + (f"The machine was loaded by other work (1-minute load average {load.split(' / ')[0]} at the "
                       f"start, on {os.cpu_count()} cores) and the replicas got at most {cores} of a core: these "
                       "figures measure that load more than rftoy; rerun on a quiet machine before sizing from them.")
    ratio = summary["two_over_one"] if summary["two_over_one"] is not None else "n/a"
    return text + (f"Two replicas over one behind nginx: {ratio} — both replicas share the same "
                   "cores, so this measures the overhead and fairness of two processes and a proxy hop, not "
                   f"capacity. One replica on this box (direct) serves {summary['per_replica']}: size N as "
                   "expected dragged sessions / that figure, for replicas on boxes of this size.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, nargs="+", default=[16, 24, 32, 40])
    parser.add_argument("--seconds", type=float, default=8.0, help="dragging per scenario")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a `kill` stops the servers it started
    started_load = os.getloadavg()
    rows = run(args.sessions, args.seconds)
    found = served(rows)
    one, two = found.get("1 replica behind nginx", 0), found.get("2 replicas behind nginx", 0)
    summary = {"served_at_10_hz": found, "two_over_one": round(two / one, 2) if one else None,
               "per_replica": found.get("1 replica, direct", 0), "loadavg_at_start": started_load}
    print(json.dumps({"rows": rows, **summary}))
    rendered = table(rows)
    print(rendered)
    print(json.dumps(summary))
    if not args.no_write:
        write_section(RESULTS, SECTION, body(rows, summary, " ".join(["python bench/scaleout.py", *sys.argv[1:]])))
    return 0


if __name__ == "__main__":
    sys.exit(main())

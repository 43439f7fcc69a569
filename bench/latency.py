"""Drag-to-update latency of the live server: a client drags one point along a circle at 30 Hz.

For every edit it records the time from sending it to receiving the first snapshot whose `applied_seq` covers
it (and checks that snapshot's trajectories start at the dragged position). Reports p50/p95 per scenario and the
snapshots per second per session, prints JSON and a table, and rewrites its section of bench/RESULTS.md.

    python bench/latency.py                     # starts `rftoy serve` on a free port, 1 and 8 sessions
    python bench/latency.py --url ws://host:8000/ws --sessions 1 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from rftoy.protocol import FrameKind, decode_frame
from rftoy.results import write_section
from websockets.asyncio.client import ClientConnection, connect

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## Live latency (bench/latency.py)"
DRAG_HZ = 30.0
GOALS = {1: {"p50": 60.0, "p95": 150.0}, 8: {"p95": 400.0}}
T = TypeVar("T")


@dataclass
class Drag:
    """One session's record: per edit its send time and, once seen, its latency."""

    sent: dict[int, float] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    snapshots: int = 0
    mismatches: int = 0
    started: asyncio.Event = field(default_factory=asyncio.Event)
    positions: dict[int, tuple[float, float]] = field(default_factory=dict)
    step: int = 0
    steps: int = 0
    coarse: int = 0
    coarse_share: float = 0.0


def _position(seq: int, phase: float) -> tuple[float, float]:
    angle = phase + 2 * math.pi * seq / (DRAG_HZ * 3)
    return 1.5 * math.cos(angle), 1.5 * math.sin(angle)


async def _read(ws: ClientConnection, drag: Drag, index: int) -> None:
    """Match snapshots to the edits they reflect until the connection closes."""
    while True:
        message = json.loads(await ws.recv())
        if message["type"] != "snapshot":
            continue
        frames = [decode_frame(await ws.recv()) for _ in message["frames"]]
        received = time.perf_counter()
        drag.snapshots += 1
        drag.coarse += message["coarse"]
        drag.step = message["step"]
        drag.started.set()
        applied = message["applied_seq"]
        if applied is None:
            continue
        covered = [seq for seq in drag.sent if seq <= applied]
        for seq in covered:
            drag.latencies_ms.append((received - drag.sent.pop(seq)) * 1000)
        if covered:
            trajectories = next(f.array for f in frames if f.kind is FrameKind.TRAJECTORIES)
            start, expected = trajectories[0, index].tolist(), drag.positions[applied]
            if max(abs(a - b) for a, b in zip(start, expected, strict=True)) > 1e-5:
                drag.mismatches += 1


async def drag_session(url: str, n: int, config: dict[str, Any], seconds: float, warmup: float,
                       phase: float) -> Drag:
    """Open a session, let it train for `warmup` s after its first snapshot, then drag x0[0] along a circle at
    30 Hz for `seconds`."""
    drag = Drag()
    async with connect(url, max_size=None, compression=None) as ws:
        await ws.send(json.dumps({"type": "hello", "protocol": 1, "scene": {"kind": "preset", "n": n, "seed": 0},
                                  "config": config}))
        reader = asyncio.create_task(_read(ws, drag, 0))
        await asyncio.wait_for(drag.started.wait(), 60)
        await asyncio.sleep(warmup)
        drag.snapshots = drag.coarse = 0
        first_step = drag.step
        start = time.perf_counter()
        seq = 0
        while time.perf_counter() - start < seconds:
            seq += 1
            x, y = _position(seq, phase)
            drag.positions[seq] = (x, y)
            drag.sent[seq] = time.perf_counter()
            await ws.send(json.dumps({"type": "edit", "seq": seq, "moves": [{"cloud": "x0", "index": 0, "x": x,
                                                                              "y": y}]}))
            await asyncio.sleep(max(0.0, start + seq / DRAG_HZ - time.perf_counter()))
        elapsed = time.perf_counter() - start
        await asyncio.sleep(0.5)
        reader.cancel()
        drag.coarse_share = drag.coarse / max(1, drag.snapshots)
        drag.snapshots = round(drag.snapshots / (elapsed + 0.5), 1)
        drag.steps = round((drag.step - first_step) / (elapsed + 0.5), 1)
    return drag


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process (Linux /proc), or None when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stolen_seconds() -> float | None:
    """CPU time the hypervisor gave to others while this VM wanted it (Linux /proc/stat 'steal', all CPUs), or
    None when unknown: a run that lost much of it measured a smaller machine."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


async def scenario(url: str, sessions: int, n: int, config: dict[str, Any], seconds: float,
                   server_pid: int | None) -> dict[str, Any]:
    load = os.getloadavg()[0]
    cpu_before, stolen_before, wall_before = cpu_seconds(server_pid), stolen_seconds(), time.perf_counter()
    drags = await asyncio.gather(*(drag_session(url, n, config, seconds, 1.5, k) for k in range(sessions)))
    cpu_after, stolen_after, wall = cpu_seconds(server_pid), stolen_seconds(), time.perf_counter() - wall_before
    server_cores = None if cpu_before is None or cpu_after is None else round((cpu_after - cpu_before) / wall, 2)
    stolen_cores = None if stolen_before is None or stolen_after is None else round((stolen_after - stolen_before)
                                                                                    / wall, 2)
    latencies = np.array([v for d in drags for v in d.latencies_ms])
    edits = sum(len(d.latencies_ms) + len(d.sent) for d in drags)
    return {"sessions": sessions, "n": n, "width": config["width"], "seconds": seconds, "edits": edits,
            "answered": int(latencies.size), "p50_ms": round(float(np.percentile(latencies, 50)), 1),
            "p95_ms": round(float(np.percentile(latencies, 95)), 1),
            "max_ms": round(float(latencies.max()), 1),
            "snapshots_per_s": round(float(np.mean([d.snapshots for d in drags])), 1),
            "min_snapshots_per_s": min(d.snapshots for d in drags),
            "steps_per_s": round(sum(d.steps for d in drags)),
            "coarse_share": round(float(np.mean([d.coarse_share for d in drags])), 2),
            "mismatches": sum(d.mismatches for d in drags), "load_before": round(load, 2),
            "server_cores": server_cores, "stolen_cores": stolen_cores}


def run_clients(clients: Coroutine[Any, Any, T]) -> T:
    """Run the benchmark's clients on uvloop where it is installed (it comes with uvicorn[standard]): they share
    the machine with the server, and uvloop's event loop costs them about a fifth less CPU than asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(clients)
    return uvloop.run(clients)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_server(settings: dict[str, str] | None = None) -> Any:
    """`rftoy serve` in a subprocess on a free port with a throwaway database and the given RFTOY_* settings;
    yields its /ws url and pid."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RFTOY_DATABASE": str(Path(tmp) / "bench.sqlite3"), **(settings or {})}
        process = subprocess.Popen([sys.executable, "-m", "rftoy.cli", "serve", "--port", str(port), "--device",
                                    "cpu"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.1)
            yield f"ws://127.0.0.1:{port}/ws", process.pid
        finally:
            process.terminate()
            process.wait(timeout=10)


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["| sessions | pairs | width | edits | p50 ms | p95 ms | max ms | snapshots/s per session | goal | "
             "load before | server CPU (cores) |", "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for r in rows:
        goal = ", ".join(f"{k} ≤ {v:g}" for k, v in GOALS.get(r["sessions"], {}).items())
        met = all(r[f"{k}_ms"] <= v for k, v in GOALS.get(r["sessions"], {}).items())
        lines.append(f"| {r['sessions']} | {r['n']} | {r['width']} | {r['edits']} | {r['p50_ms']} | {r['p95_ms']} | "
                     f"{r['max_ms']} | {r['snapshots_per_s']} | {goal} ({'met' if met else 'missed'}) | "
                     f"{r['load_before']} | {r['server_cores'] if r['server_cores'] is not None else '?'} |")
    return "\n".join(lines)


def write_results(rows: list[dict[str, Any]], command: str) -> None:
    """Replace this bench's section of RESULTS.md (other sections are left as they are)."""
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}"
    body = (f"`{command}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine}, "
            "shared with other jobs (figures may be pessimistic).\n\n"
            f"{_table(rows)}\n\n"
            "One point of x0 is dragged at 30 Hz; latency runs from sending an edit to receiving the first snapshot "
            "that reflects it.\n'load before' is the 1-minute load average when the scenario began; 'server CPU' is "
            "the CPU time the server process got per second (2 cores would be 2.0).\n")
    write_section(RESULTS, SECTION, body.rstrip("\n"))


def add_drag_arguments(parser: argparse.ArgumentParser, sessions: list[int]) -> None:
    """The options of the drag benchmarks (this one and sessions.py)."""
    parser.add_argument("--sessions", type=int, nargs="+", default=sessions)
    parser.add_argument("--n", type=int, default=256, help="pairs in each scene")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--config", type=json.loads, default={},
                        help='more session config as JSON, e.g. \'{"solver": "rk4", "steps": 8}\'')
    parser.add_argument("--seconds", type=float, default=10.0, help="drag time per scenario")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server's websocket url (default: start one)")
    add_drag_arguments(parser, [1, 8])
    args = parser.parse_args()

    async def run_all(url: str, pid: int | None) -> list[dict[str, Any]]:
        config = {**args.config, "width": args.width}
        return [await scenario(url, k, args.n, config, args.seconds, pid) for k in args.sessions]

    if args.url:
        rows = run_clients(run_all(args.url, None))
    else:
        room = str(2 * max(args.sessions))  # every client is on this address; closing sessions still count a moment
        with local_server({"RFTOY_MAX_SESSIONS_PER_CLIENT": room, "RFTOY_MAX_SESSIONS": room}) as (url, pid):
            rows = run_clients(run_all(url, pid))
    print(json.dumps(rows))
    print(_table(rows))
    if not args.no_write:
        write_results(rows, "python " + " ".join(["bench/latency.py", *sys.argv[1:]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

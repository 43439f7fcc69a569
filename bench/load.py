"""Load and fault test of the live server: many websocket clients dragging at 30 Hz, a soak, and a garbage flood.

Each client opens a session like the page does (64 pairs, the default net, `snapshot_window: 1`, an ack per
snapshot) and drags one point along a circle at 30 Hz. Per phase it reports errors and unexpected disconnects
(both must be zero), the client-side drag → update latency (send of an edit to the first snapshot reflecting it),
snapshots per second per client, and the server's RSS after warm-up and at the end (flat: within 10 %). The
garbage phase sends garbage messages from one client (reconnecting whenever the server closes it) while others
drag; the draggers must see no errors. Prints JSON and a table and rewrites its section of bench/RESULTS.md.

    python bench/load.py                                            # 8, 32, 64 clients x 60 s, soak 16 x 600 s
    python bench/load.py --clients 8 32 64 --duration 20 --soak-duration 180
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
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rftoy.results import write_section
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## Load (bench/load.py)"
DRAG_HZ = 30.0
SCENE = {"kind": "preset", "source": "gaussian", "target": "moons", "n": 64, "seed": 0}
RSS_TOLERANCE = 0.10
GARBAGE_BATCH = 50
GARBAGE = [
    "not json", "[1, 2, 3]", '{"type": "nope"}', '{"no_type": 1}', '{"type": "edit", "seq": -1, "moves": []}',
    '{"type": "edit", "seq": 1, "moves": [{"cloud": "x9", "index": 0, "x": 0, "y": 0}]}',
    '{"type": "hello", "protocol": 99}', '{"type": "set_config", "config": {"width": 1e9}}',
    '{"type": "hello", "protocol": 1, "config": {"width": "wide"}}', '{"type": "ack", "seq": 999999}',
    '{"type": "edit", "seq": 1, "moves": [{"cloud": "x0", "index": 0, "x": NaN, "y": 0}]}', "\u0000\u0001",
    '{"type": "ping", "nonce": ' + "[" * 40 + "]" * 40 + "}", "{" * 1000,
]


@dataclass
class Client:
    """One dragging client's record."""

    sent: dict[int, float] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    snapshots: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    disconnects: list[str] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    measuring: bool = False


def _position(seq: int, phase: float) -> tuple[float, float]:
    angle = phase + 2 * math.pi * seq / (DRAG_HZ * 3)
    return 1.5 * math.cos(angle), 1.5 * math.sin(angle)


async def _read(ws: ClientConnection, client: Client) -> None:
    """Ack every snapshot, match it to the edits it reflects, keep errors, note a close we did not ask for."""
    try:
        while True:
            raw = await ws.recv()
            if isinstance(raw, bytes):
                continue
            message = json.loads(raw)
            if message["type"] == "error":
                client.errors.append(message)
            if message["type"] != "snapshot":
                continue
            await ws.send(json.dumps({"type": "ack", "seq": message["seq"]}))
            received = time.perf_counter()
            client.started.set()
            if client.measuring:
                client.snapshots += 1
            applied = message["applied_seq"]
            for seq in [s for s in client.sent if applied is not None and s <= applied]:
                sent = client.sent.pop(seq)
                if client.measuring:
                    client.latencies_ms.append((received - sent) * 1000)
    except ConnectionClosed as closed:
        client.disconnects.append(f"{closed.rcvd.code if closed.rcvd else 'no close frame'} "
                                  f"{closed.rcvd.reason if closed.rcvd else ''}".strip())


async def drag(url: str, client: Client, phase: float, warmup: float, seconds: float) -> None:
    """Open a session, drag x0[0] at 30 Hz for `warmup` + `seconds` (measuring the latter), then leave."""
    async with connect(url, max_size=None, compression=None, open_timeout=60) as ws:
        await ws.send(json.dumps({"type": "hello", "protocol": 1, "scene": SCENE, "snapshot_window": 1}))
        reader = asyncio.create_task(_read(ws, client))
        await asyncio.wait_for(client.started.wait(), 120)
        start = measured_from = time.perf_counter()
        seq = 0
        while time.perf_counter() - start < warmup + seconds and not reader.done():
            seq += 1
            if not client.measuring and time.perf_counter() - start >= warmup:
                client.measuring = True
                measured_from = time.perf_counter()
            x, y = _position(seq, phase)
            client.sent[seq] = time.perf_counter()
            await ws.send(json.dumps({"type": "edit", "seq": seq, "moves": [{"cloud": "x0", "index": 0, "x": x,
                                                                              "y": y}]}))
            await asyncio.sleep(max(0.0, start + seq / DRAG_HZ - time.perf_counter()))
        client.snapshots = round(client.snapshots / max(1e-9, time.perf_counter() - measured_from), 2)
        reader.cancel()
        await asyncio.wait([reader])


async def garbage(url: str, count: int, stop: asyncio.Event) -> dict[str, Any]:
    """Send `count` garbage messages in batches of GARBAGE_BATCH, reading the one reply each gets (so the count is
    what the server processed), reconnecting whenever the server closes the connection (`closes`: its codes)."""
    processed, closes = 0, Counter()
    while processed < count and not stop.is_set():
        async with connect(url, max_size=None, compression=None, open_timeout=60) as ws:
            try:
                while processed < count:
                    batch = [GARBAGE[(processed + k) % len(GARBAGE)] for k in range(min(GARBAGE_BATCH,
                                                                                       count - processed))]
                    for k, message in enumerate(batch):
                        await ws.send(message.encode() if (processed + k) % 7 == 3 else message)
                    for _ in batch:
                        await asyncio.wait_for(ws.recv(), 30)
                        processed += 1
            except ConnectionClosed:
                closes[f"{ws.close_code} {ws.close_reason or ''}".strip()] += 1
    return {"processed": processed, "closes": dict(closes)}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def server_metrics(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/api/metrics", timeout=10) as response:
        return json.load(response)


async def phase(name: str, url: str, pid: int, clients: int, seconds: float, warmup: float,
                garbage_count: int = 0) -> dict[str, Any]:
    """`clients` draggers (and the garbage client) on one server; RSS sampled once a second."""
    records = [Client() for _ in range(clients)]
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()

    async def sample() -> None:
        t0 = time.perf_counter()
        while not stop.is_set():
            samples.append((time.perf_counter() - t0, rss_mb(pid)))
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    sampler = asyncio.create_task(sample())
    t0 = time.perf_counter()
    draggers = [drag(url, c, k, warmup, seconds) for k, c in enumerate(records)]
    flood = None
    if garbage_count:
        flood = asyncio.create_task(garbage(url, garbage_count, stop))
    await asyncio.gather(*draggers)
    stop.set()
    await sampler
    flood_result = await flood if flood is not None else None
    ready_at = t0 + warmup
    warm = [mb for at, mb in samples if t0 + at >= ready_at] or [samples[-1][1]]
    latencies = np.array([v for c in records for v in c.latencies_ms]) if any(c.latencies_ms for c in records) \
        else np.array([math.nan])
    row = {"phase": name, "clients": clients, "seconds": seconds, "warmup_s": warmup,
           "edits_measured": int(sum(len(c.latencies_ms) for c in records)),
           "errors": sum(len(c.errors) for c in records),
           "disconnects": sum(len(c.disconnects) for c in records),
           "p50_ms": round(float(np.percentile(latencies, 50)), 1),
           "p95_ms": round(float(np.percentile(latencies, 95)), 1),
           "snapshots_per_s_per_client": round(float(np.mean([c.snapshots for c in records])), 2),
           "rss_warm_mb": round(warm[0], 1), "rss_end_mb": round(warm[-1], 1), "rss_max_mb": round(max(warm), 1),
           "rss_growth_pct": round(100 * (warm[-1] - warm[0]) / warm[0], 1),
           "wall_s": round(time.perf_counter() - t0, 1)}
    row["rss_flat"] = abs(row["rss_growth_pct"]) <= 100 * RSS_TOLERANCE
    if flood_result is not None:
        row["garbage"] = flood_result
    examples = [e["message"] for c in records for e in c.errors][:3] + [d for c in records for d in c.disconnects][:3]
    if examples:
        row["examples"] = examples
    return row


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_server(max_clients: int, log: Path) -> Iterator[tuple[str, str, int]]:
    """`rftoy serve` on a free port with room for every client from one address; its event log goes to `log`."""
    port = _free_port()
    room = str(max_clients + 8)
    with tempfile.TemporaryDirectory() as tmp, log.open("w") as sink:
        env = {**os.environ, "RFTOY_DATABASE": str(Path(tmp) / "load.sqlite3"), "RFTOY_MAX_SESSIONS": room,
               "RFTOY_MAX_SESSIONS_PER_CLIENT": room}
        process = subprocess.Popen([sys.executable, "-m", "rftoy.cli", "serve", "--port", str(port), "--device",
                                    "cpu"], env=env, stdout=subprocess.DEVNULL, stderr=sink)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{base}/api/health", timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.2)
            yield f"ws://127.0.0.1:{port}/ws", base, process.pid
        finally:
            process.terminate()
            process.wait(timeout=30)


def session_ends(log: Path) -> dict[str, int]:
    """Reasons of the server's session_end lines."""
    reasons: Counter[str] = Counter()
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            if event["event"] == "session_end":
                reasons[event["reason"]] += 1
    return dict(reasons)


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["| phase | clients | measured s | errors | disconnects | p50 ms | p95 ms | snapshots/s per client | "
             "RSS after warm-up → end (max) MB | growth | server p95 ms | steps/s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['phase']} | {r['clients']} | {r['seconds']:g} | {r['errors']} | {r['disconnects']} | "
                     f"{r['p50_ms']} | {r['p95_ms']} | {r['snapshots_per_s_per_client']} | {r['rss_warm_mb']} → "
                     f"{r['rss_end_mb']} ({r['rss_max_mb']}) | {r['rss_growth_pct']:+.1f} % "
                     f"({'flat' if r['rss_flat'] else 'NOT flat'}) | {r['server']['latency_ms']['p95']} | "
                     f"{r['server']['steps_per_s']} |")
    return "\n".join(lines)


def write_results(rows: list[dict[str, Any]], ends: dict[str, int], command: str) -> None:
    """Replace this bench's section of RESULTS.md (other sections are left as they are)."""
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}"
    flood = next((r["garbage"] for r in rows if "garbage" in r), None)
    notes = ["Clients and server share the machine's cores. Each client drags one point of a 64-pair scene (the "
             "page's default, default net) at 30 Hz with `snapshot_window: 1` and an ack per snapshot; latency runs "
             "from sending an edit to receiving the first snapshot that reflects it (measured after the warm-up). "
             "'server p95' is GET /api/metrics at the end of the phase (the server's part of that latency, last "
             "10 s). RSS is the server process's, sampled every second after warm-up."]
    if flood is not None:
        closes = ", ".join(f"{k}: {v}" for k, v in flood["closes"].items())
        notes.append(f"Garbage phase: one client had {flood['processed']} garbage messages (bad JSON, unknown "
                     "types, invalid fields, binary frames, a ping with a deep nonce) answered, in batches of 50, each "
                     "with its reply (an error, or a pong); "
                     f"the server closed it {sum(flood['closes'].values())} times ({closes}) and it reconnected "
                     "each time.")
    notes.append(f"Server log, session_end reasons over the whole run: {ends}.")
    body = (f"`{command}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine}, "
            "shared with other jobs (figures may be pessimistic).\n\n"
            f"{_table(rows)}\n\n" + "\n\n".join(notes) + "\n")
    write_section(RESULTS, SECTION, body.rstrip("\n"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="*", default=[8, 32, 64], help="dragging clients per phase")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of dragging before measuring")
    parser.add_argument("--soak-clients", type=int, default=16)
    parser.add_argument("--soak-duration", type=float, default=600.0, help="0 skips the soak")
    parser.add_argument("--garbage", type=int, default=10_000, help="garbage messages (0 skips the phase)")
    parser.add_argument("--garbage-clients", type=int, default=8, help="clients dragging meanwhile")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args()
    most = max([*args.clients, args.soak_clients, args.garbage_clients + 1])

    async def run_all(url: str, base: str, pid: int) -> list[dict[str, Any]]:
        plan = [(f"drag {k}", k, args.duration, 0) for k in args.clients]
        if args.garbage:
            plan.append(("garbage", args.garbage_clients, args.duration, args.garbage))
        if args.soak_duration:
            plan.append(("soak", args.soak_clients, args.soak_duration, 0))
        rows = []
        for name, clients, seconds, flood in plan:
            row = await phase(name, url, pid, clients, seconds, args.warmup, flood)
            row["server"] = await asyncio.to_thread(server_metrics, base)
            print(json.dumps(row), file=sys.stderr)
            rows.append(row)
        return rows

    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        with local_server(most, log) as (url, base, pid):
            rows = asyncio.run(run_all(url, base, pid))
        ends = session_ends(log)
    print(json.dumps({"phases": rows, "session_end_reasons": ends}))
    print(_table(rows))
    if not args.no_write:
        write_results(rows, ends, "python " + " ".join(["bench/load.py", *sys.argv[1:]]))
    failed = [r["phase"] for r in rows if r["errors"] or r["disconnects"] or not r["rss_flat"]]
    if failed:
        print(f"load: errors, disconnects or growing memory in {failed}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

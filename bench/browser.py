"""Browser benchmark: particle frame rates of the JS fallback and of WebGPU (SwiftShader) in headless Chromium,
and the client-measured drag → update latency against the real server.

    python bench/browser.py [--seconds 6] [--chromium /usr/bin/chromium] [--no-write]

Prints JSON and a table, and replaces the section `## Browser (bench/browser.py)` of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright
from rftoy.results import write_section as write_results_section

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Browser (bench/browser.py)"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@contextmanager
def running_server() -> Iterator[str]:
    """`rftoy serve` on a free port with a throwaway database; yields the base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RFTOY_DATABASE": str(Path(tmp) / "scenes.sqlite3"), "RFTOY_DEVICE": "cpu"}
        process = subprocess.Popen([sys.executable, "-m", "rftoy.cli", "serve", "--port", str(port)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/api/health", timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)


def open_page(browser: Browser, base: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(base)
    page.wait_for_function("window.rftoy && window.rftoy.summary.snapshots > 0 && window.rftoy.trajectory(0)",
                           timeout=30_000)
    return page


def pause_training(page: Page) -> None:
    """Pause the session's trainer, so that the particle figures measure the browser alone."""
    if page.evaluate("window.rftoy.summary.trainingState") != "paused":
        page.click("#train-toggle")
        page.wait_for_function("window.rftoy.summary.trainingState === 'paused'", timeout=10_000)


def particle_rate(page: Page, particles: int, seconds: float) -> dict[str, Any]:
    """Set the particle count, let it settle, then sample the page's frame and particle-update rates."""
    pause_training(page)
    page.fill("#particle-count", str(particles))
    page.locator("#particle-count").dispatch_event("change")
    page.wait_for_function(f"window.rftoy.summary.particles === {particles}")
    page.wait_for_function("window.rftoy.summary.particleFps > 0", timeout=30_000)
    time.sleep(1.0)
    frames, updates = [], []
    for _ in range(int(seconds * 2)):
        summary = page.evaluate("window.rftoy.summary")
        frames.append(summary["fps"])
        updates.append(summary["particleFps"])
        time.sleep(0.5)
    backend = page.evaluate("window.rftoy.summary.backend")
    return {"backend": backend, "particles": particles, "particle_fps": sum(updates) / len(updates),
            "page_fps": sum(frames) / len(frames)}


def drag_latency(page: Page, seconds: float) -> dict[str, Any]:
    """Drag one noise sample around a circle for `seconds`; the page measures pointer → snapshot latency."""
    start = page.evaluate("window.rftoy.pointOnPage('x0', 0)")
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    began = time.monotonic()
    k = 0
    while time.monotonic() - began < seconds:
        k += 1
        dx, dy = 40 * ((k // 10) % 2 * 2 - 1), 3 * (k % 10)
        page.mouse.move(start["x"] + dx, start["y"] + dy)
        time.sleep(0.05)
    page.mouse.up()
    page.wait_for_function("window.rftoy.summary.appliedSeq >= window.rftoy.summary.sentSeq", timeout=10_000)
    latency = page.evaluate("window.rftoy.summary.latency")
    return {"p50_ms": latency["p50"], "p95_ms": latency["p95"], "samples": latency["count"]}


def run(chromium: str, seconds: float) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU cores", "runs": []}
    with running_server() as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = open_page(browser, base)
            results["latency"] = drag_latency(page, seconds)
            for particles in (2000, 10000):
                results["runs"].append(particle_rate(page, particles, seconds))
        finally:
            browser.close()
        browser = playwright.chromium.launch(executable_path=chromium, args=[*CHROMIUM_ARGS, "--enable-unsafe-webgpu"])
        try:
            page = open_page(browser, base)
            results["adapter"] = page.evaluate("window.rftoy.summary.backendNote")
            results["runs"].append(particle_rate(page, 10000, seconds))
        finally:
            browser.close()
    return results


def table(results: dict[str, Any]) -> str:
    lines = ["| backend | particles | particle updates / s | page frames / s |", "|---|---:|---:|---:|"]
    for r in results["runs"]:
        name = "WebGPU (" + results.get("adapter", "") + ")" if r["backend"] == "webgpu" else "JS fallback"
        lines.append(f"| {name} | {r['particles']} | {r['particle_fps']:.1f} | {r['page_fps']:.1f} |")
    lat = results["latency"]
    lines += ["", "| drag → update latency (client) | p50 | p95 | samples |", "|---|---:|---:|---:|",
              f"| pointer event → snapshot with that edit | {lat['p50_ms']:.0f} ms | {lat['p95_ms']:.0f} ms "
              f"| {lat['samples']} |"]
    return "\n".join(lines)


def write_section(results: dict[str, Any], command: str) -> None:
    """Replace (or append) this script's own section of bench/RESULTS.md."""
    body = (f"`{command}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, headless Chromium, "
            f"{results['machine']}; the server's training is paused for the particle figures and runs during the "
            f"drag.\n\n{table(results)}\n\n"
            "Particle updates / s counts advanced particle positions drawn per second (WebGPU's are read back from "
            "the GPU); page frames / s is the animation loop. SwiftShader emulates the GPU on the CPU, so its "
            "figures are no guide to a real GPU.\n")
    write_results_section(RESULTS, SECTION, body.rstrip("\n"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="measuring time per figure")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args()
    results = run(args.chromium, args.seconds)
    print(json.dumps(results, indent=2))
    print(table(results))
    if not args.no_write:
        suffix = f" --seconds {args.seconds:g}" if args.seconds != 6 else ""
        write_section(results, f"python bench/browser.py{suffix}")


if __name__ == "__main__":
    main()

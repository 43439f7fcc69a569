"""The benchmarks' results file (bench/RESULTS.md in a source checkout): one `## ` section per bench."""

from __future__ import annotations

import os
from pathlib import Path

CHECKOUT_RESULTS = Path(__file__).resolve().parents[2] / "bench" / "RESULTS.md"  # there only in a source checkout


def write_section(path: Path, heading: str, body: str) -> None:
    """Replace (or append) one `## ` section of a Markdown results file, leaving the others as they are."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start = text.find(heading)
    if start == -1:
        text = text.rstrip("\n") + f"\n\n{heading}\n\n{body}\n"
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + f"{heading}\n\n{body}\n" + (text[end:] if end != -1 else "")
    path.write_text(text)


def results_path(chosen: Path | None) -> Path:
    """Where the bench writes: the path chosen, else bench/RESULTS.md of the source checkout this module runs
    from, else RESULTS.md in the current directory (an installed rftoy has no bench/ of its own)."""
    if chosen is not None:
        return chosen
    return CHECKOUT_RESULTS if CHECKOUT_RESULTS.exists() else Path.cwd() / "RESULTS.md"


def loadavg() -> float | None:
    """The 1-minute load average (None where the system does not say)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None

"""How rftoy's own threads start: with the process's torch thread count, and (metrics) at a lower priority."""

from __future__ import annotations

import contextlib
import os
import threading

import torch

METRICS_NICE = 10  # metrics threads' nice value: they get CPU time that training and the event loop leave


def inherit_torch_threads() -> None:
    """Give this thread the process's torch thread count. OpenMP keeps the count per thread, and a thread started
    from Python gets one per core: MKL's matmuls there ran on a team of spinning threads, and with a trainer and a
    tracer side by side a tiny net's training step took many times as long (docs/engine.md, "Measurements behind
    the code")."""
    torch.set_num_threads(torch.get_num_threads())


def start_metrics_thread() -> None:
    """A metrics thread: torch's thread count, and a lower priority, so that it gets the CPU time training and
    the event loop leave (Linux gives each thread its own nice value)."""
    inherit_torch_threads()
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), METRICS_NICE)

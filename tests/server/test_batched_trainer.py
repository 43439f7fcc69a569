"""The batched trainer in a live server: equal to training alone, grouped by shape, fair, priority to drags."""

from __future__ import annotations

import asyncio
import os
import threading

import numpy as np
import torch
from live_client import SMALL_NET, LiveClient, Snapshot, eventually
from rftoy.engine.flow import TrainConfig, Trainer
from rftoy.engine.model import NetShape, VelocityMLP, export_weights
from rftoy.engine.threads import METRICS_NICE
from rftoy.live.chunk import ChunkJob
from rftoy.live.scheduler import Slot, pick
from rftoy.protocol import Config

KEEP_TRAINING = 1_000_000  # a convergence window no test reaches


def _scene(n: int, seed: int) -> dict:
    return {"kind": "preset", "source": "gaussian", "target": "moons", "n": n, "seed": seed}


async def _pause(clients: list[LiveClient]) -> list[Snapshot]:
    """Pause every session; each one's first paused snapshot (its last chunk is done)."""
    for client in clients:
        await client.send({"type": "pause"})
    return [await client.snapshot_where(lambda s: s.meta["state"] == "paused") for client in clients]


def _alone(config: dict, x0: np.ndarray, x1: list, steps: int) -> torch.Tensor:
    """The weights of a net trained alone, step for step, with the recipe of a live round (a constant rate, the
    config's seed for the initial weights and the minibatches)."""
    torch.manual_seed(config["seed"])
    recipe = TrainConfig(lr=config["lr"], batch=config["batch"], time_sampling=config["time_sampling"],
                         warp_s=config["warp_s"], schedule="constant", seed=config["seed"])
    alone = Trainer(VelocityMLP(NetShape(config["width"], config["depth"], config["activation"])), recipe)
    points, targets = torch.from_numpy(x0.copy()), torch.tensor(x1, dtype=torch.float32)
    for _ in range(steps):
        alone.step(points, targets)
    return export_weights(alone.model)


async def test_each_session_gets_what_it_would_get_training_alone(launch) -> None:
    """Two nets of one shape (scenes of 24 and 40 pairs, so rows are padded) and one of another shape train
    together; replaying each alone, step for step, gives the same weights."""
    live = launch(converge_window=KEEP_TRAINING)
    setups = [(_scene(24, 1), SMALL_NET), (_scene(40, 2), SMALL_NET), (_scene(24, 3), {"width": 12, "depth": 2})]
    clients = [await LiveClient.open(live.ws_url) for _ in setups]
    readies = [await c.hello(scene=scene, config=config) for c, (scene, config) in zip(clients, setups, strict=True)]
    for client in clients:
        await client.snapshot_where(lambda s: s.meta["step"] >= 40, timeout=60)
    paused = await _pause(clients)
    counters = live.metrics()["batched_trainer"]
    assert counters["shared_steps"] > 0 and counters["traces"] > 0 and counters["trace_s"] > 0
    for ready, snapshot in zip(readies, paused, strict=True):
        alone = _alone(ready["config"], snapshot.trajectories[0], ready["scene"]["x1"], snapshot.meta["step"])
        assert torch.allclose(torch.tensor(snapshot.weights), alone, atol=1e-4)
    for client in clients:
        await client.close()


async def test_sessions_take_turns_when_a_tick_holds_only_one(launch) -> None:
    live = launch(converge_window=KEEP_TRAINING, max_tick_rows=24)
    clients = [await LiveClient.open(live.ws_url) for _ in range(3)]
    for i, client in enumerate(clients):
        await client.hello(scene=_scene(24, i), config=SMALL_NET)
    start = [(await client.wait("snapshot")).meta["step"] for client in clients]
    latest = list(start)

    async def follow(i: int) -> Snapshot:
        """Note client i's step from each snapshot, until its first paused one."""
        while True:
            snapshot = await clients[i].wait("snapshot", timeout=60)
            latest[i] = snapshot.meta["step"]
            if snapshot.meta["state"] == "paused":
                return snapshot

    readers = [asyncio.create_task(follow(i)) for i in range(3)]
    await eventually(lambda: sum(latest) - sum(start) >= 600 or any(r.done() for r in readers), timeout=60)
    for client in clients:
        await client.send({"type": "pause"})
    paused = await asyncio.gather(*readers)
    gained = [snapshot.meta["step"] - before for snapshot, before in zip(paused, start, strict=True)]
    assert sum(gained) >= 600 and min(gained) >= 0.5 * max(gained), gained
    assert live.metrics()["batched_trainer"]["shared_steps"] == 0  # one net per tick
    for client in clients:
        await client.close()


def _slot(fresh: bool, last_tick: int, n: int = 24) -> Slot:
    job = ChunkJob(round=None, x0=torch.zeros(n, 2), x1=torch.zeros(n, 2), config=Config(batch=256),
                   train=True, fresh=fresh, deadline=0.0, meta={}, stop=threading.Event(),
                   edited=threading.Event(), teacher_steps=8, metrics_max_points=512, device=torch.device("cpu"))
    return Slot(job, future=None, last_tick=last_tick)


def test_a_tick_takes_dragged_chunks_first_then_the_longest_waiting() -> None:
    waited_long, waited_less, dragged, dragged_too = _slot(False, 3), _slot(False, 7), _slot(True, 9), \
        _slot(True, 8)
    slots = [waited_less, dragged, waited_long, dragged_too]
    assert pick(slots, max_rows=10_000) == [dragged_too, dragged, waited_long, waited_less]
    assert pick(slots, max_rows=48) == [dragged_too, dragged]
    assert pick([_slot(False, 0, n=100)], max_rows=10) != []  # a chunk larger than a tick still trains alone
    big, small = _slot(True, 0, n=100), _slot(False, 0, n=20)
    assert pick([big, small], max_rows=110) == [big]
    assert pick([big, small], max_rows=120) == [big, small]


def test_metrics_threads_yield_to_training(live) -> None:
    """Metrics run on their own pool at a lower priority (Linux nice), so training and the event loop go first."""
    nice = live.hub.metrics_pool.submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert nice.result(timeout=10) == METRICS_NICE

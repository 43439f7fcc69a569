"""The batched trainer in a live server: equal to training alone, grouped by shape, fair, priority to drags."""

from __future__ import annotations

import asyncio
import os
import threading

import torch
from live_client import LiveClient, eventually
from rftoy.engine.flow import Trainer
from rftoy.engine.model import NetShape, VelocityMLP, export_weights
from rftoy.engine.threads import METRICS_NICE
from rftoy.live.chunk import ChunkJob
from rftoy.live.scheduler import Slot, pick
from rftoy.protocol import Config
from server_setup import SMALL_NET

KEEP_TRAINING = 1_000_000  # a convergence window no test reaches


def _scene(n: int, seed: int) -> dict:
    return {"kind": "preset", "source": "gaussian", "target": "moons", "n": n, "seed": seed}


async def _paused_steps(clients: list[LiveClient]) -> None:
    """Pause every session and wait until each has said so (its last chunk is done)."""
    for client in clients:
        await client.send({"type": "pause"})
    for client in clients:
        await client.snapshot_where(lambda s: s.meta["state"] == "paused")


def test_each_session_gets_what_it_would_get_training_alone(launch) -> None:
    """Two nets of one shape (scenes of 24 and 40 pairs, so rows are padded) and one of another shape train
    together; replaying each alone, step for step, gives the same weights."""
    live = launch(converge_window=KEEP_TRAINING)
    setups = [(_scene(24, 1), SMALL_NET), (_scene(40, 2), SMALL_NET), (_scene(24, 3), {"width": 12, "depth": 2})]

    async def scenario() -> None:
        clients = [await LiveClient.open(live.ws_url) for _ in setups]
        ids = [(await c.hello(scene=scene, config=config))["session_id"] for c, (scene, config) in
               zip(clients, setups, strict=True)]
        sessions = [live.hub.sessions[i] for i in ids]
        await eventually(lambda: min(s.rounds[0].trainer.steps_done for s in sessions) >= 40, timeout=60)
        await _paused_steps(clients)
        counters = live.get("/api/metrics").json()["batched_trainer"]
        assert counters["shared_steps"] > 0 and counters["traces"] > 0 and counters["trace_s"] > 0
        for session in sessions:
            trained = session.rounds[0].trainer
            torch.manual_seed(session.config.seed)
            alone = Trainer(VelocityMLP(NetShape(session.config.width, session.config.depth,
                                                 session.config.activation)), trained.config)
            for _ in range(trained.steps_done):
                alone.step(session.x0, session.x1)
            assert torch.allclose(export_weights(trained.model), export_weights(alone.model), atol=1e-4)
        for client in clients:
            await client.close()

    asyncio.run(scenario())


def test_sessions_take_turns_when_a_tick_holds_only_one(launch) -> None:
    live = launch(converge_window=KEEP_TRAINING, max_tick_rows=24)

    async def scenario() -> None:
        clients = [await LiveClient.open(live.ws_url) for _ in range(3)]
        ids = [(await c.hello(scene=_scene(24, i), config=SMALL_NET))["session_id"] for i, c in enumerate(clients)]
        sessions = [live.hub.sessions[i] for i in ids]
        for client in clients:
            await client.wait("snapshot")
        start = [s.rounds[0].trainer.steps_done for s in sessions]
        await eventually(lambda: sum(s.rounds[0].trainer.steps_done for s in sessions) - sum(start) >= 600,
                         timeout=60)
        await _paused_steps(clients)
        gained = [s.rounds[0].trainer.steps_done - before for s, before in zip(sessions, start, strict=True)]
        assert min(gained) >= 0.5 * max(gained), gained
        assert live.hub.batched.stats().shared_steps == 0  # one net per tick
        for client in clients:
            await client.close()

    asyncio.run(scenario())


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

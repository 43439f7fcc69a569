"""Fair shares of the batched trainer's and tracer's time between clients (their addresses).

Each client is charged the seconds its chunks took. Only clients whose charge is within `QUANTUM_S` of the least
charged present client are served (those close together share a batched tick, so many light users still train
together); the others wait. A client that was away, or asks little, keeps at most `CREDIT_S` of unused time: on
its return it is lifted to within that of the least charged present client, so a light user (a person dragging)
is served first whenever it has work, and a heavy one (many sessions, the costliest settings) gets the rest.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

QUANTUM_S = 0.05
CREDIT_S = 1.0
FORGET_S = 60.0
LIGHT_WORK = 64 * 1024 * 1024  # a tick's work per client beyond which its chunks go one per tick
TRACE_LIGHT_WORK = 4 * LIGHT_WORK  # a trace beyond it is heavy (the page's default scene and net stay light)


def work_of(rows: int, width: int, depth: int) -> float:
    """The relative cost of one training step: pair rows times the net's weights (roughly)."""
    return rows * (width * width * max(1, depth - 1) + 8 * width)


@dataclass
class Shares:
    """Seconds charged per client; clients unseen for `FORGET_S` are forgotten (the map stays small)."""

    charged: dict[str, float] = field(default_factory=dict)
    seen: dict[str, float] = field(default_factory=dict)
    last_present: set[str] = field(default_factory=set)
    forgotten_at: float = field(default_factory=time.monotonic)

    def _present(self, clients: set[str]) -> dict[str, float]:
        """The charges of the present clients; those absent last time are lifted to at most CREDIT_S below the
        least charged of those present both times."""
        now = time.monotonic()
        staying = [self.charged[c] for c in clients & self.last_present]
        floor = (min(staying) if staying else min(self.charged.get(c, 0.0) for c in clients)) - CREDIT_S
        for client in clients - self.last_present:
            self.charged[client] = max(self.charged.get(client, floor), floor)
        for client in clients:
            self.seen[client] = now
        self.last_present = set(clients)
        if now - self.forgotten_at > FORGET_S:
            for client in [c for c, at in self.seen.items() if now - at > FORGET_S]:
                del self.seen[client], self.charged[client]
                self.last_present.discard(client)
            self.forgotten_at = now
        return {client: self.charged[client] for client in clients}

    def due(self, clients: set[str]) -> dict[str, float]:
        """The present clients to serve now (within QUANTUM_S of the least charged), with their charges."""
        charges = self._present(clients)
        least = min(charges.values())
        return {client: charge for client, charge in charges.items() if charge <= least + QUANTUM_S}

    def next_client(self, clients: set[str]) -> str:
        """The least charged of the present clients."""
        charges = self._present(clients)
        return min(charges, key=charges.__getitem__)

    def charge(self, seconds: dict[str, float]) -> None:
        for client, spent in seconds.items():
            self.charged[client] = self.charged.get(client, 0.0) + spent

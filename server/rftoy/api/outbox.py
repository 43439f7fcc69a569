"""What one connection still has to send: replies in order, and only the newest metrics and snapshot."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from fastapi import WebSocket

from rftoy.api.telemetry import Telemetry
from rftoy.live.chunk import Snapshot
from rftoy.protocol import ProtocolError, dumps, encode_frame
from rftoy.settings import Settings


class Outbox:
    """One connection's unsent replies, metrics and snapshot, and the task that sends them (`pump`).

    With a snapshot window (hello.snapshot_window), at most that many sent snapshots may be unacknowledged;
    the next one waits in the slot (and is replaced by newer ones) until the client acks. Replies are kept as
    their JSON text, bounded in count and in bytes: past either bound the connection is flooded (closed on the
    client's next message) and further replies are dropped, so a client that does not read costs little memory.
    """

    def __init__(self, settings: Settings, telemetry: Telemetry) -> None:
        self.telemetry = telemetry
        self.edits_at: deque[tuple[int, float]] = deque(maxlen=settings.max_tracked_edits)
        self.errors = 0
        self.replies: deque[str] = deque()
        self.unsent_bytes = 0
        self.metrics: dict[str, Any] | None = None
        self.snapshot: Snapshot | None = None
        self.max_replies = settings.max_unread_replies
        self.max_bytes = settings.max_unread_bytes
        self.ready = asyncio.Event()
        self.closing: tuple[int, str] | None = None
        self.window: int | None = None
        self.sent_seq = 0
        self.acked_seq = 0

    @property
    def overflowing(self) -> str | None:
        """Why the unsent replies are over their bound (the close reason), or None."""
        if len(self.replies) > self.max_replies:
            return f"flood: more than {self.max_replies} replies left unread"
        if self.unsent_bytes > self.max_bytes:
            return f"flood: more than {self.max_bytes} bytes of replies left unread"
        return None

    def note_edit(self, seq: int) -> None:
        """An edit arrived: the first snapshot that applies it gives its drag → update latency."""
        self.edits_at.append((seq, time.perf_counter()))

    def _measure(self, applied_seq: int | None) -> None:
        now = time.perf_counter()
        while self.edits_at and applied_seq is not None and self.edits_at[0][0] <= applied_seq:
            self.telemetry.record_latency(now - self.edits_at.popleft()[1])

    def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "error":
            self.errors += 1
        if message["type"] == "metrics":
            self.metrics = message
        elif self.overflowing is None:
            text = dumps(message)
            self.replies.append(text)
            self.unsent_bytes += len(text)
        self.ready.set()

    def offer(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.ready.set()

    def ack(self, seq: int) -> None:
        if seq > self.sent_seq:
            raise ProtocolError("invalid", f"ack.seq: snapshot {seq} has not been sent yet (last sent: "
                                f"{self.sent_seq})", "ack")
        self.acked_seq = max(self.acked_seq, seq)
        self.ready.set()

    def _may_send_snapshot(self) -> bool:
        return self.window is None or self.sent_seq - self.acked_seq < self.window

    def close_after_sending(self, code: int, reason: str) -> None:
        self.closing = (code, reason)
        self.ready.set()

    async def pump(self, websocket: WebSocket) -> None:
        """Send until cancelled or closing; a snapshot goes as its JSON message followed at once by its frames."""
        while self.closing is None or self.replies:
            await self.ready.wait()
            self.ready.clear()
            while self.replies:
                text = self.replies.popleft()
                self.unsent_bytes -= len(text)
                await websocket.send_text(text)
            if self.metrics is not None:
                metrics, self.metrics = self.metrics, None
                await websocket.send_text(dumps(metrics))
            if self.snapshot is not None and self._may_send_snapshot():
                snapshot, self.snapshot = self.snapshot, None
                self.sent_seq = snapshot.meta["seq"]
                self.telemetry.snapshots.add()
                self._measure(snapshot.meta["applied_seq"])
                await websocket.send_text(dumps(snapshot.meta))
                for kind, array in snapshot.arrays:
                    await websocket.send_bytes(encode_frame(kind, snapshot.meta["seq"], array))
        await websocket.close(*self.closing)

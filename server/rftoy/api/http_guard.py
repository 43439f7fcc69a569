"""HTTP as shipped, facing the internet directly: uvicorn's httptools protocol with three guards.

uvicorn has no limit on a request's header size under httptools, no deadline for headers to arrive, and no cap
on connections per address. `guarded_protocol` adds them at the protocol level, before any ASGI code runs:

- headers (request line included) over `max_header_bytes`: 431 and close;
- headers not complete within `header_timeout_s` of the connection opening (or of a keep-alive request's first
  byte): the connection is closed (a slow-loris client holds nothing for long);
- more than `max_connections_per_client` open HTTP connections from one peer address: the newest gets 503 and is
  closed, and past `max_connections` in all, likewise. Trusted proxies (`forwarded_allow_ips`) are not capped
  per address: every visitor behind them shares their address (the websocket's per-client limits count the
  forwarded one).

A connection that upgrades to a websocket leaves these counts: websockets have limits of their own (rftoy.api.socket).
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from rftoy.settings import Settings


def _response(status: bytes, text: str) -> bytes:
    body = text.encode()
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: "
            + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)


@dataclass
class Gate:
    """The shared state of one server's guarded connections: open connections, in all and per peer address."""

    max_header_bytes: int
    header_timeout_s: float
    max_connections: int
    per_client: int
    trusted: frozenset[str] | None  # None: every peer is a trusted proxy ('*')
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    open: Counter[str] = field(default_factory=Counter)
    total: int = 0
    refused: int = 0
    timed_out: int = 0
    too_large: int = 0

    def is_proxy(self, peer: str) -> bool:
        if self.trusted is None or peer in self.trusted:
            return True
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def admit(self, peer: str) -> str | None:
        """Count a new connection, or say why it is refused."""
        if self.total >= self.max_connections:
            return f"the server already holds {self.max_connections} HTTP connections; try again later"
        if self.open[peer] >= self.per_client and not self.is_proxy(peer):
            return f"your address already has {self.per_client} HTTP connections open; try again later"
        self.open[peer] += 1
        self.total += 1
        return None

    def leave(self, peer: str) -> None:
        self.total -= 1
        self.open[peer] -= 1
        if self.open[peer] <= 0:
            del self.open[peer]


def gate_of(settings: Settings) -> Gate:
    names = [name.strip() for name in settings.forwarded_allow_ips.split(",") if name.strip()]
    networks = []
    for name in names:
        with suppress(ValueError):  # a host name or '*' is matched as it is
            networks.append(ipaddress.ip_network(name, strict=False))
    return Gate(settings.max_header_bytes, settings.header_timeout_s, settings.max_http_connections,
                settings.max_http_connections_per_client, None if "*" in names else frozenset(names),
                tuple(networks))


def guarded_protocol(gate: Gate) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with the gate's limits (pass it as uvicorn.Config(http=...))."""

    class GuardedHttp(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.peer: str | None = None
            self.header_bytes = 0
            self.tail = b""
            self.in_headers = True
            self.deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            peer = self.client[0] if self.client else "unknown"
            refusal = gate.admit(peer)
            if refusal is not None:
                gate.refused += 1
                transport.write(_response(b"503 Service Unavailable", refusal))
                transport.close()
                return
            self.peer = peer
            self._arm()

        def _arm(self) -> None:
            self._disarm()
            self.deadline = self.loop.call_later(gate.header_timeout_s, self._too_slow)

        def _disarm(self) -> None:
            if self.deadline is not None:
                self.deadline.cancel()
                self.deadline = None

        def _too_slow(self) -> None:
            self.deadline = None
            if self.in_headers and not self.transport.is_closing():
                gate.timed_out += 1
                self.transport.close()

        def _leave(self) -> None:
            self._disarm()
            if self.peer is not None:
                gate.leave(self.peer)
                self.peer = None

        def connection_lost(self, exc: Exception | None) -> None:
            self._leave()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            """Measure the headers (up to the blank line) before the parser sees them; refuse them when too big."""
            if self.in_headers and not self.transport.is_closing():
                seen = self.tail + data
                end = seen.find(b"\r\n\r\n")
                size = self.header_bytes + (end + 4 - len(self.tail) if end >= 0 else len(data))
                if size > gate.max_header_bytes:
                    gate.too_large += 1
                    self.transport.write(_response(b"431 Request Header Fields Too Large",
                                                   f"request headers over {gate.max_header_bytes} bytes"))
                    self.transport.close()
                    return
                self.header_bytes += len(data)
                self.tail = seen[-3:]
            super().data_received(data)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if not self.in_headers:  # a keep-alive connection's next request: a fresh deadline and count
                self.in_headers = True
                self.header_bytes = 0
                self.tail = b""
                self._arm()

        def on_headers_complete(self) -> None:
            self.in_headers = False
            self._disarm()
            super().on_headers_complete()

        def handle_websocket_upgrade(self) -> None:
            self._leave()
            super().handle_websocket_upgrade()

    return GuardedHttp

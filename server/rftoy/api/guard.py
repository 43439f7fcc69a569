"""Abuse limits that are about who calls, not what they send: origins, per-client counts, token buckets."""

from __future__ import annotations

import time
from collections import Counter
from urllib.parse import urlsplit

from rftoy.settings import Settings

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class RateLimit:
    """A token bucket: `rate` tokens per second refill a bucket of `burst`; each message takes one."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.at = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now

    def take(self) -> bool:
        self._refill()
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    @property
    def full(self) -> bool:
        self._refill()
        return self.tokens >= self.burst

    def wait_s(self) -> float:
        """Seconds until one token is back."""
        self._refill()
        return max(0.0, (1 - self.tokens) / self.rate)


class ClientBuckets:
    """One token bucket per client address. Buckets that refilled completely (idle clients) are forgotten at
    least once per refill time, and whenever `max_clients` pile up, so many distinct addresses cannot grow the
    map."""

    def __init__(self, rate: float, burst: float,
                 max_clients: int = Settings.model_fields["max_tracked_clients"].default) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self.buckets: dict[str, RateLimit] = {}
        self.refill_s = burst / rate
        self.pruned_at = time.monotonic()

    def _prune(self) -> None:
        self.buckets = {k: b for k, b in self.buckets.items() if not b.full}
        self.pruned_at = time.monotonic()

    def take(self, client: str) -> float | None:
        """None when allowed, else the seconds to wait."""
        if len(self.buckets) >= self.max_clients or time.monotonic() - self.pruned_at > self.refill_s:
            self._prune()
        bucket = self.buckets.setdefault(client, RateLimit(self.rate, self.burst))
        return None if bucket.take() else bucket.wait_s()


class ClientCounts:
    """Live connections per client address."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.counts: Counter[str] = Counter()

    def has_room(self, client: str) -> bool:
        return self.counts[client] < self.limit

    def add(self, client: str) -> None:
        self.counts[client] += 1

    def remove(self, client: str) -> None:
        self.counts[client] -= 1
        if self.counts[client] <= 0:
            del self.counts[client]


def _host_port(netloc: str, default_port: int | None) -> tuple[str, int | None] | None:
    try:
        parts = urlsplit(f"//{netloc}")
        return (parts.hostname or "").lower(), parts.port or default_port
    except ValueError:
        return None


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """May a page from `origin` open the websocket of a server reached as `host` (the Host header)?

    Allowed: no Origin (not a browser), an origin in `allowed` (or `*` there), a loopback page, or a page
    from the same host and port as the websocket itself. `null` (a sandboxed frame, a local file) and malformed
    origins are refused unless listed in `allowed` as they are.
    """
    if origin is None or "*" in allowed or origin.rstrip("/") in allowed:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:  # e.g. http://[::1 (an unclosed IPv6 bracket)
        return False
    if parts.hostname is None or parts.scheme not in DEFAULT_PORTS:
        return False
    if parts.hostname.lower() in LOOPBACK_HOSTS:
        return True
    if host is None:
        return False
    default_port = DEFAULT_PORTS[parts.scheme]
    try:
        page = (parts.hostname.lower(), parts.port or default_port)
    except ValueError:
        return False
    return page == _host_port(host, default_port)

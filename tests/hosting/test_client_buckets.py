"""Per-client token buckets forget idle clients, so many distinct addresses cannot grow the map without bound."""

from __future__ import annotations

from live_server import wait_until
from rftoy.api.guard import ClientBuckets


def test_idle_clients_are_pruned_well_before_the_map_is_full() -> None:
    buckets = ClientBuckets(rate=2.0, burst=1)  # a bucket refills in 0.5 s
    for n in range(2000):
        assert buckets.take(f"10.0.{n // 256}.{n % 256}") is None
    assert buckets.take("10.0.0.0") is not None  # still limited while its bucket is empty
    wait_until(lambda: buckets.take("192.0.2.1") is None and len(buckets.buckets) == 1, timeout=5)

"""HTTP as shipped (rftoy.api.http_guard): a header size limit, a deadline for headers, a cap per address."""

from __future__ import annotations

import socket
import time

from live_client import SMALL, LiveClient
from live_server import LiveServer, wait_until
from rftoy.api.http_guard import Gate

REQUEST = b"GET /api/health HTTP/1.1\r\nHost: demo\r\n"


def _gate(served: LiveServer) -> Gate:
    return served.server.config.app.state.gate


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (fails after the socket's timeout)."""
    found = b""
    while chunk := sock.recv(65536):
        found += chunk
    return found


def test_oversized_headers_get_431_and_a_close(launch) -> None:
    served = launch(max_header_bytes=8192)
    with _connect(served.port) as sock:
        sock.sendall(REQUEST + b"X-Big: " + b"a" * 20_000 + b"\r\n\r\n")
        assert _read_all(sock).startswith(b"HTTP/1.1 431 ")
    with _connect(served.port) as sock:  # a header that never ends: refused long before it would
        sent = 0
        try:
            sock.sendall(REQUEST + b"X-Endless: ")
            while sent < 32 << 20:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert sent < 4 << 20, f"sent {sent} bytes of one header without a close"
    with _connect(served.port) as sock:  # just under the limit is fine
        sock.sendall(REQUEST + b"X-Fits: " + b"a" * 7000 + b"\r\nConnection: close\r\n\r\n")
        assert _read_all(sock).startswith(b"HTTP/1.1 200 ")
    assert _gate(served).too_large >= 2


def test_headers_must_arrive_within_the_deadline(launch) -> None:
    served = launch(header_timeout_s=1.0)
    with _connect(served.port) as silent, _connect(served.port) as slow, _connect(served.port) as kept:
        started = time.monotonic()
        slow.sendall(REQUEST)  # the request line and one header, never the blank line
        kept.sendall(REQUEST + b"\r\n")  # a whole request, then a slow second one on the same connection
        assert kept.recv(65536).startswith(b"HTTP/1.1 200 ")
        kept.sendall(b"GET / HTTP/1.1\r\n")
        for sock in (silent, slow, kept):
            assert _read_all(sock) == b""
        assert time.monotonic() - started < 5
    assert _gate(served).timed_out == 3
    assert served.get("/api/health").status_code == 200


async def test_connections_per_address_are_capped_and_websockets_are_not_counted(launch) -> None:
    served = launch(max_http_connections_per_client=3, forwarded_allow_ips="10.9.9.9")
    held = [_connect(served.port) for _ in range(3)]
    try:
        with _connect(served.port) as extra:
            assert _read_all(extra).startswith(b"HTTP/1.1 503 ")
        held.pop().close()
        wait_until(lambda: _gate(served).open["127.0.0.1"] == 2)
        opened = [await LiveClient.open(served.ws_url) for _ in range(2)]  # upgraded: they leave the HTTP count
        for client in opened:
            await client.hello(**SMALL)
            await client.close()
    finally:
        for sock in held:
            sock.close()
    served.assert_healthy()
    assert _gate(served).refused == 1

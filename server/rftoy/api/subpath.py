"""Serving under `root_path` (e.g. /demo) behind a proxy that keeps or strips the prefix."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class SubPath:
    """ASGI wrapper: requests arrive as /demo/... (kept) or /... (stripped); both reach the same routes. The bare
    /demo redirects to /demo/, so the page's relative URLs resolve under the sub-path.
    """

    def __init__(self, app: ASGIApp, root_path: str) -> None:
        self.app = app
        self.root_path = root_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.root_path or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == self.root_path and scope["type"] == "http":
            await _redirect(send, self.root_path + "/", scope.get("query_string", b""))
            return
        if not path.startswith(self.root_path + "/"):
            prefix = self.root_path.encode()
            raw_path = prefix + (scope.get("raw_path") or path.encode())
            scope = dict(scope, path=self.root_path + path, raw_path=raw_path)
        await self.app(dict(scope, root_path=self.root_path), receive, send)


async def _redirect(send: Send, location: str, query: bytes) -> None:
    target = location.encode("latin-1") + (b"?" + query if query else b"")
    await send({"type": "http.response.start", "status": 307,
                "headers": [(b"location", target), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})

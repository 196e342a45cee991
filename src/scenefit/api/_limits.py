"""A cap on request bodies, enforced while they stream in (not after they are buffered)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._body_cap import ByteCap, OverCap


class BodyLimitMiddleware:
    """413 for a body over ``max_bytes``: at once when Content-Length says so, else as soon
    as the streamed bytes pass it (chunked uploads), before anything is parsed."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or ())
        cap = ByteCap(self.max_bytes)
        try:
            cap.declare(headers.get(b"content-length"))
        except OverCap:
            return await self._reject(send)
        started = False

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                cap.take(message.get("body", b""))
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except OverCap:
            if not started:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        mb = self.max_bytes / (1024 * 1024)
        body = json.dumps({"error": {"code": "too_large",
                                     "message": f"request body over the {mb:g} MB limit (SCENEFIT_MAX_UPLOAD_MB)"}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

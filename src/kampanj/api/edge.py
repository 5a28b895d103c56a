"""The outermost layer: size limits (API-10), ``_method=GET`` and system errors (611).

A pure ASGI middleware so that no request reaches routing with an oversized URI or body,
and so that an unexpected exception becomes a 611 envelope without a traceback in the
response (it is logged, without request bodies or credentials).
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kampanj.api.envelope import SYSTEM_ERROR, failure_body
from kampanj.api.settings import ApiSettings

log = logging.getLogger("kampanj.api")


class _TooLarge(Exception):
    pass


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, settings: ApiSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        uri = len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"])
        if uri > self.settings.max_uri_bytes:
            await _plain(send, 414, "URI Too Long")
            return
        try:
            body = await self._read_body(scope, receive)
        except _TooLarge:
            await _plain(send, 413, "Request Entity Too Large")
            return
        scope = _method_override(scope, body)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, replay, tracking_send)
        except Exception:
            log.exception("system error serving %s %s", scope["method"], scope["path"])
            if not started:
                await _json(send, 200, failure_body(SYSTEM_ERROR, "System error"))

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        declared = dict(scope["headers"]).get(b"content-length")
        limit = self.settings.max_body_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _method_override(scope: Scope, body: bytes) -> Scope:
    """A POST with ``_method=GET`` and its query as a form body is served as the GET (API-10)."""
    if scope["method"] != "POST":
        return scope
    query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
    if query.get("_method", "").upper() != "GET":
        return scope
    headers = dict(scope["headers"])
    media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if media != b"application/x-www-form-urlencoded":
        return scope
    merged = [(k, v) for k, v in parse_qsl(scope["query_string"].decode()) if k != "_method"]
    merged += parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {**scope, "method": "GET", "query_string": urlencode(merged).encode()}


async def _plain(send: Send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


async def _json(send: Send, status: int, document: dict[str, Any]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(document).encode()})

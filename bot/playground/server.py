"""The playground's web server: the page, its static files, one WebSocket per open page,
and the documents the bot sent (the CSV export) to download. Loopback only."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import WSMsgType, web

from bot.playground.bridge import ActionError, Bridge

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
BRIDGE: web.AppKey[Bridge] = web.AppKey("bridge", Bridge)
QUEUE_LIMIT = 2000  # events waiting for one page; a page that stops reading is dropped
SECURITY_HEADERS = {
    # The page loads nothing from elsewhere and nothing may frame it.
    "Content-Security-Policy": ("default-src 'self'; connect-src 'self'; img-src 'self' data:; "
                                "style-src 'self'; script-src 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def make_app(bridge: Bridge) -> web.Application:
    app = web.Application(middlewares=[_headers])
    app[BRIDGE] = bridge
    app.router.add_get("/", _index)
    app.router.add_get("/ws", _socket)
    app.router.add_get("/file/{file_id}", _file)
    app.router.add_static("/static/", STATIC, append_version=False)
    return app


@web.middleware
async def _headers(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def _file(request: web.Request) -> web.Response:
    doc = request.app[BRIDGE].world.tg.files.get(request.match_info["file_id"])
    if doc is None:
        raise web.HTTPNotFound(text="no such file")
    disposition = f"attachment; filename*=UTF-8''{quote(doc.filename)}"
    return web.Response(body=doc.data, content_type=doc.mime_type or "application/octet-stream",
                        headers={"Content-Disposition": disposition})


def _same_origin(request: web.Request) -> bool:
    """Another web site open in the same browser must not drive the playground."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


async def _socket(request: web.Request) -> web.WebSocketResponse:
    if not _same_origin(request):
        raise web.HTTPForbidden(text="cross-origin WebSocket refused")
    bridge = request.app[BRIDGE]
    ws = web.WebSocketResponse(heartbeat=20.0)
    await ws.prepare(request)
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    closing: list[asyncio.Task[bool]] = []

    def push(event: dict[str, Any]) -> None:
        if queue.qsize() < QUEUE_LIMIT:
            queue.put_nowait(event)
        elif not closing:  # the page is gone or stuck: it reconnects to a fresh snapshot
            closing.append(asyncio.create_task(ws.close()))

    queue.put_nowait(bridge.snapshot())
    bridge.scan()  # the snapshot includes it all; later events are changes after it
    unsubscribe = bridge.subscribe(push)
    writer = asyncio.create_task(_write(ws, queue))
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            await _act(bridge, msg.data, push)
    finally:
        unsubscribe()
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
    return ws


async def _write(ws: web.WebSocketResponse, queue: asyncio.Queue[dict[str, Any]]) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        while not ws.closed:
            await ws.send_json(await queue.get())


async def _act(bridge: Bridge, raw: str, reply: Any) -> None:
    try:
        action = json.loads(raw)
    except ValueError:
        action = None
    if not isinstance(action, dict):
        reply({"type": "error", "text": "an action is a JSON object"})
        return
    try:
        await bridge.act(action, reply)
    except ActionError as exc:
        reply({"type": "error", "text": str(exc)})
    except Exception:  # the person sees that it failed; the traceback goes to the log
        log.exception("playground action failed")
        reply({"type": "error", "text": "that did not work (see the terminal)"})

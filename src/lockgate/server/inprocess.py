"""The SDK against an in-process app: a sync httpx transport that drives the ASGI app on a
private event loop thread, so `lockgate.embedded_client()` needs no network and no daemon."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from lockgate.sdk import Client
from lockgate.server.app import create_app
from lockgate.settings import Settings
from lockgate.store.sql import upgrade

__all__ = ["InProcessTransport", "embedded_client"]

T = TypeVar("T")


class InProcessTransport(httpx.BaseTransport):
    """Sends each request to the ASGI app running on a background event loop."""

    def __init__(self, app: FastAPI) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name="lockgate-inprocess"
        )
        self._thread.start()
        self._inner = httpx.ASGITransport(app=app)
        self._app = app
        self._lifespan = self._submit(self._enter_lifespan())

    def _submit(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def _enter_lifespan(self) -> Any:
        context = self._app.router.lifespan_context(self._app)
        await context.__aenter__()
        return context

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        inner_request = httpx.Request(
            request.method, request.url, headers=request.headers, content=body
        )

        async def send() -> tuple[int, httpx.Headers, bytes]:
            response = await self._inner.handle_async_request(inner_request)
            stream = response.stream
            if not isinstance(stream, httpx.AsyncByteStream):
                raise TypeError("the ASGI transport returned a sync stream")
            content = b"".join([chunk async for chunk in _chunks(stream)])
            return response.status_code, response.headers, content

        status, headers, content = self._submit(send())
        return httpx.Response(status, headers=headers, content=content, request=request)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._submit(self._lifespan.__aexit__(None, None, None))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


async def _chunks(stream: httpx.AsyncByteStream) -> AsyncIterator[bytes]:
    async for chunk in stream:
        yield chunk


def embedded_client(
    home: str | Path | None = None, *, settings: Settings | None = None, token: str | None = None
) -> Client:
    """A Client over an in-process server on the embedded store under `home` (or as
    `settings` say), upgraded to the current schema first."""
    if settings is None:
        settings = Settings(home=Path(home)) if home is not None else Settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_metadata_url())
    transport = InProcessTransport(create_app(settings))
    return Client("http://localhost", token=token, transport=transport)

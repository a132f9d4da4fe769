"""What the server process runs besides the routes: its store threads (where the express lane
and authentication wait for the store, off the event loop) and FastAPI's native OpenTelemetry
instrumentation, which runs only when the settings ask for it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from opentelemetry import trace

from lockgate.server.app import create_app
from lockgate.server.inprocess import InProcessTransport
from lockgate.server.threads import ServerThreads
from lockgate.settings import Settings


def test_a_call_runs_on_a_store_thread_and_returns_or_raises() -> None:
    threads = ServerThreads(2)

    def where(offset: int) -> tuple[str, int]:
        return threading.current_thread().name, offset + 1

    def fails() -> None:
        raise LookupError("no such run")

    async def calls() -> tuple[str, int]:
        with pytest.raises(LookupError, match="no such run"):
            await threads.run(fails)
        return await threads.run(where, 41)

    try:
        name, value = asyncio.run(calls())
    finally:
        threads.close()
    assert name.startswith("lockgate-store")
    assert value == 42


def test_close_waits_for_the_calls_under_way() -> None:
    threads = ServerThreads(1)
    started, release = threading.Event(), threading.Event()
    finished: list[bool] = []

    def write() -> None:
        started.set()
        release.wait(5)
        finished.append(True)

    async def submit() -> None:
        task = asyncio.ensure_future(threads.run(write))
        await asyncio.to_thread(started.wait, 5)
        task.cancel()  # the awaiting request goes away; the write does not stop half-way

    asyncio.run(submit())
    closer = threading.Thread(target=threads.close)
    closer.start()
    closer.join(0.2)
    assert closer.is_alive()
    assert not finished
    release.set()
    closer.join(5)
    assert not closer.is_alive()
    assert finished == [True]


def test_the_express_lane_writes_on_a_store_thread(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings)
    tracking = app.state.platform.tracking
    seen: list[str] = []
    log_metrics = tracking.log_metrics

    def recording(*args: Any) -> None:
        seen.append(threading.current_thread().name)
        log_metrics(*args)

    monkeypatch.setattr(tracking, "log_metrics", recording)
    with httpx.Client(transport=InProcessTransport(app), base_url="http://lockgate.test") as api:
        project = api.post("/api/v1/projects", json={"name": "churn", "description": "d"})
        assert project.status_code == 201, project.text
        run = api.post("/api/v1/projects/churn/runs", json={"name": "baseline"}).json()
        body = {"metrics": [{"key": "loss", "value": 0.5, "step": 1}]}
        assert api.post(f"/api/v1/runs/{run['id']}/metrics", json=body).status_code == 204
    assert len(seen) == 1
    assert seen[0].startswith("lockgate-store")


class _RecordingTracer(trace.Tracer):
    def __init__(self, names: list[str]) -> None:
        self._names = names

    def start_span(self, name: str, *args: Any, **kwargs: Any) -> trace.Span:
        self._names.append(name)
        return trace.INVALID_SPAN

    @contextmanager
    def start_as_current_span(self, name: str, *args: Any, **kwargs: Any) -> Iterator[trace.Span]:
        self._names.append(name)
        yield trace.INVALID_SPAN


class _RecordingProvider(trace.TracerProvider):
    """A configured global provider (FastAPI instruments only when one is set up)."""

    def __init__(self) -> None:
        self.spans: list[str] = []

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return _RecordingTracer(self.spans)


@pytest.mark.parametrize("enabled", [False, True])
def test_requests_are_traced_only_when_the_settings_ask(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    provider = _RecordingProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    app = create_app(settings.model_copy(update={"otel_enabled": enabled}))
    with httpx.Client(transport=InProcessTransport(app), base_url="http://lockgate.test") as api:
        assert api.get("/api/v1/health").status_code == 200
    assert bool(provider.spans) is enabled

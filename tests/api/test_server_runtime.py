"""What the server process runs besides the routes: its store threads (where the express lane
and authentication wait for the store, off the event loop) and FastAPI's native OpenTelemetry
instrumentation, which runs only when the settings ask for it."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from opentelemetry import trace

from lockgate.server import run as server_run
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


def test_close_waits_for_the_calls_under_way_and_those_waiting() -> None:
    threads = ServerThreads(1)
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def write(name: str) -> None:
        started.set()
        release.wait(5)
        finished.append(name)

    async def submit() -> None:
        tasks = [asyncio.ensure_future(threads.run(write, n)) for n in ("first", "second")]
        await asyncio.sleep(0)
        await asyncio.to_thread(started.wait, 5)
        for task in tasks:
            task.cancel()  # the awaiting requests go away; their writes still happen

    asyncio.run(submit())
    closer = threading.Thread(target=threads.close)
    closer.start()
    closer.join(0.2)
    assert closer.is_alive()
    assert not finished
    release.set()
    closer.join(5)
    assert not closer.is_alive()
    assert finished == ["first", "second"]


def test_a_call_goes_to_the_thread_that_went_idle_last() -> None:
    """After concurrency made several threads, one caller's calls stay on one of them (whose
    caches are warm) instead of going round all."""
    threads = ServerThreads(8)
    gate = threading.Barrier(4)

    def together() -> str:
        gate.wait(5)
        return threading.current_thread().name

    def name() -> str:
        return threading.current_thread().name

    async def calls() -> tuple[set[str], list[str]]:
        made = await asyncio.gather(*(threads.run(together) for _ in range(4)))
        return set(made), [await threads.run(name) for _ in range(20)]

    try:
        made, sequential = asyncio.run(calls())
    finally:
        threads.close()
    assert len(made) == 4
    assert len(set(sequential)) == 1


def test_calls_beyond_the_limit_wait_their_turn() -> None:
    threads = ServerThreads(1)
    order: list[int] = []

    def record(number: int) -> str:
        order.append(number)
        return threading.current_thread().name

    async def calls() -> list[str]:
        return await asyncio.gather(*(threads.run(record, n) for n in range(5)))

    try:
        names = asyncio.run(calls())
    finally:
        threads.close()
    assert order == [0, 1, 2, 3, 4]
    assert len(set(names)) == 1
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(threads.run(record, 5))


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


def test_a_server_process_puts_what_it_built_out_of_the_collectors_sight(
    settings: Settings,
) -> None:
    """The app, its modules and its store live as long as the process: frozen, the collector's
    full passes no longer walk them (they made a third of long history reads 2.4x slower)."""
    gc.unfreeze()
    try:
        app = server_run._process_app(settings)
        assert gc.get_freeze_count() > 0
        assert gc.is_tracked(app)
        assert not any(app is obj for obj in gc.get_objects())  # frozen ones are not listed
    finally:
        gc.unfreeze()

"""Sink calls on a thread of their own, so the logger can stop waiting for a stalled sink."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

__all__ = ["SinkCall", "SinkRunner"]


class SinkCall:
    """One call into the sink; done once it returned or raised (then `error` holds why)."""

    __slots__ = ("_action", "_done", "error")

    def __init__(self, action: Callable[[], None]) -> None:
        self._action = action
        self._done = threading.Event()
        self.error: Exception | None = None

    def is_done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float) -> bool:
        """Whether the call finished within `timeout` seconds."""
        return self._done.wait(timeout)

    def run(self) -> None:
        try:
            self._action()
        except Exception as exc:  # noqa: BLE001  # the sink boundary: any failure means "try later"
            self.error = exc
        finally:
            self._done.set()


class SinkRunner:
    """Runs submitted calls one at a time on a daemon thread (a sink that never returns must not
    keep the interpreter from exiting) and calls `on_done` after each."""

    def __init__(self, on_done: Callable[[], None], *, name: str) -> None:
        self._on_done = on_done
        self._calls: queue.SimpleQueue[SinkCall | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, action: Callable[[], None]) -> SinkCall:
        call = SinkCall(action)
        self._calls.put(call)
        return call

    def stop(self) -> None:
        """Let the thread end after the call it is running, if any."""
        self._calls.put(None)

    def _run(self) -> None:
        while (call := self._calls.get()) is not None:
            call.run()
            self._on_done()

"""The server's own threads for the store's blocking calls on its hottest paths.

FastAPI runs sync routes through anyio's `to_thread.run_sync`, which costs the event loop about
100 µs of CPU per call (a capacity limiter, a cancel scope, run-variable lookups, the result
handed back through anyio's machinery). On a single metric point that is a tenth of the whole
request. The express metric lane and authentication run their store calls here instead.

A call goes to the thread that went idle last. A `ThreadPoolExecutor`'s threads all wait on one
queue and take turns: after eight concurrent requests had made eight threads, one connection's
points went round all of them, each on a thread whose stack and objects had left the CPU's
caches, and cost about 130 µs more CPU each.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar, TypeVarTuple, Unpack

__all__ = ["ServerThreads"]

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")

# As anyio's default thread limiter: enough for the commit group to gather concurrent writers.
DEFAULT_THREADS = 40

# A call: what to run, and the loop and future that wait for its outcome.
_Call = tuple[Callable[..., Any], tuple[Any, ...], asyncio.AbstractEventLoop, asyncio.Future[Any]]


class ServerThreads:
    """Threads for blocking calls made from the event loop, started as calls need them. `close`
    them when the server stops: it waits for the calls under way and those waiting.

    Args:
        threads: the most calls that run at once; more wait for a free thread, in order.
    """

    def __init__(self, threads: int = DEFAULT_THREADS) -> None:
        if threads < 1:
            raise ValueError("threads must be at least 1")
        self._limit = threads
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []  # the one that went idle last is at the end
        self._waiting: deque[_Call] = deque()
        self._workers: list[_Worker] = []
        self._closed = False

    async def run(self, function: Callable[[Unpack[_Ts]], _T], *args: *_Ts) -> _T:
        """`function(*args)` on a server thread. The call finishes even if the awaiting task is
        cancelled (a write is never cut off half-way; its outcome is then not awaited)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        self._submit((function, args, loop, future))
        return await future

    def close(self) -> None:
        """Let the threads finish what they run and what waits, then end them."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            workers = list(self._workers)
        for worker in idle:
            worker.hand(None)
        for worker in workers:
            worker.thread.join()

    def _submit(self, call: _Call) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the server's threads are closed")
            if self._idle:
                worker = self._idle.pop()
            elif len(self._workers) < self._limit:
                worker = _Worker(self, len(self._workers))
                self._workers.append(worker)
            else:
                self._waiting.append(call)
                return
        worker.hand(call)

    @property
    def closed(self) -> bool:
        return self._closed

    def next_for(self, worker: _Worker) -> _Call | None:
        """A waiting call for a worker that finished one, or None after it has gone idle."""
        with self._lock:
            if self._waiting:
                return self._waiting.popleft()
            if not self._closed:
                self._idle.append(worker)
            return None


class _Worker:
    """A thread that runs the calls handed to it, then those waiting, then sleeps until the next
    is handed over (None: the threads are closing)."""

    def __init__(self, threads: ServerThreads, number: int) -> None:
        self._threads = threads
        self._wake = threading.Lock()
        self._wake.acquire()  # released by `hand`
        self._call: _Call | None = None
        self.thread = threading.Thread(
            target=self._serve, name=f"lockgate-store-{number}", daemon=True
        )
        self.thread.start()

    def hand(self, call: _Call | None) -> None:
        self._call = call
        self._wake.release()

    def _serve(self) -> None:
        while True:
            self._wake.acquire()
            call = self._call
            self._call = None
            while call is not None:
                result, error = _outcome(call)
                # Back on the idle stack before the caller hears of it: its next call, sent as
                # soon as it has the answer, comes to this thread again.
                following = self._threads.next_for(self)
                _deliver(call[2], call[3], result, error)
                call = following
            if self._threads.closed:
                return


def _outcome(call: _Call) -> tuple[Any, BaseException | None]:
    function, args, _, _ = call
    try:
        return function(*args), None
    except BaseException as error:  # noqa: BLE001 - the awaiting task raises it
        return None, error


def _deliver(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: Any,
    error: BaseException | None,
) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody awaits the outcome
        loop.call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)

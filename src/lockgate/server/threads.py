"""The server's own threads for the store's blocking calls on its hottest paths.

FastAPI runs sync routes through anyio's `to_thread.run_sync`, which costs the event loop about
100 µs of CPU per call (a capacity limiter, a cancel scope, run-variable lookups, the result
handed back through anyio's machinery). On a single metric point that is a tenth of the whole
request. The express metric lane and authentication run their store calls through
`loop.run_in_executor` on this pool instead, for about a third of that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, TypeVarTuple, Unpack

__all__ = ["ServerThreads"]

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")

# As anyio's default thread limiter: enough for the commit group to gather concurrent writers.
DEFAULT_THREADS = 40


class ServerThreads:
    """A thread pool for blocking calls made from the event loop. `close` it when the server
    stops: it waits for the calls under way.

    Args:
        threads: the most calls that run at once; more wait for a free thread.
    """

    def __init__(self, threads: int = DEFAULT_THREADS) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="lockgate-store")

    async def run(self, function: Callable[[Unpack[_Ts]], _T], *args: *_Ts) -> _T:
        """`function(*args)` on a pool thread. The call finishes even if the awaiting task is
        cancelled (a write is never cut off half-way; its outcome is then not awaited)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, function, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

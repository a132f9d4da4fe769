"""Adaptive batching: requests that arrive while the model is busy are scored together.

With `max_wait` 0 a batch is whatever arrived during the same turn of the event loop (so a
lone request never waits); a positive `max_wait` holds the first request of a batch up to that
long for company, unless `max_batch_size` rows come sooner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from lockgate.serving.flavors.base import Columns
from lockgate.serving.protocol import MatrixColumns

__all__ = ["AdaptiveBatcher", "BatchObserver", "BatchReporter"]

BatchObserver = Callable[[int], None]
"""Called with the rows of every batch the model scored."""

TagT = TypeVar("TagT")

BatchReporter = Callable[[list[TagT], Columns, list[int], Columns | None, Exception | None], None]
"""Called after each model call with the requests' tags, the inputs the model got, each
request's row count, and the outputs, or the exception when the call failed."""


@dataclass(slots=True)
class _Pending(Generic[TagT]):
    inputs: Columns
    rows: int
    future: asyncio.Future[Columns]
    tag: TagT


class AdaptiveBatcher(Generic[TagT]):
    """Queues requests for one model and scores them in batches on the event loop's thread.

    Args:
        predict: The model's predict over columns; runs on the loop's thread (one core:
            handing it to another thread would only add a switch per batch).
        max_batch_size: Most rows scored in one call; a larger request is scored alone.
        max_wait: Seconds the first request of a batch may wait for more (0: none).
        observe: Called with each batch's row count (the batch-size histogram).
        report: Called after each model call, answered or failed, with what it scored (the
            prediction log); it must not raise.
    """

    def __init__(
        self,
        predict: Callable[[Columns], Columns],
        *,
        max_batch_size: int,
        max_wait: float,
        observe: BatchObserver | None = None,
        report: BatchReporter[TagT] | None = None,
    ) -> None:
        if max_batch_size < 1 or max_wait < 0:
            raise ValueError("max_batch_size must be positive and max_wait at least 0")
        self._predict = predict
        self._max_rows = max_batch_size
        self._max_wait = max_wait
        self._observe = observe
        self._report = report
        self._queue: list[_Pending[TagT]] = []
        self._queued_rows = 0
        self._handle: asyncio.Handle | asyncio.TimerHandle | None = None

    async def predict(self, inputs: Columns, rows: int, tag: TagT) -> Columns:
        """Score one request's rows, batched with whatever else is waiting; `tag` is handed to
        `report` with them.

        Raises what the model raised when it fails on this request's rows.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Columns] = loop.create_future()
        self._queue.append(_Pending(inputs, rows, future, tag))
        self._queued_rows += rows
        if self._queued_rows >= self._max_rows or self._max_wait == 0:
            if self._handle is None or isinstance(self._handle, asyncio.TimerHandle):
                if self._handle is not None:
                    self._handle.cancel()  # the batch is full: stop waiting for more
                self._handle = loop.call_soon(self._flush)
        elif self._handle is None:
            self._handle = loop.call_later(self._max_wait, self._flush)
        return await future

    def _flush(self) -> None:
        self._handle = None
        batch = self._take()
        if self._queue:  # more than one batch's worth arrived: the rest goes next turn
            self._handle = asyncio.get_running_loop().call_soon(self._flush)
        live = [p for p in batch if not p.future.done()]  # a cancelled request is skipped
        if not live:
            return
        if len(live) == 1:
            self._score_alone(live[0])
            return
        inputs = _concatenate([p.inputs for p in live])
        try:
            outputs = self._run(inputs, sum(p.rows for p in live))
        except Exception:  # noqa: BLE001  # the user-code boundary: find whose rows failed
            for pending in live:
                self._score_alone(pending)
            return
        if self._report is not None:
            self._report([p.tag for p in live], inputs, [p.rows for p in live], outputs, None)
        start = 0
        for pending in live:
            end = start + pending.rows
            pending.future.set_result({name: out[start:end] for name, out in outputs.items()})
            start = end

    def _take(self) -> list[_Pending[TagT]]:
        taken: list[_Pending[TagT]] = []
        rows = 0
        while self._queue and (not taken or rows + self._queue[0].rows <= self._max_rows):
            pending = self._queue.pop(0)
            taken.append(pending)
            rows += pending.rows
        self._queued_rows -= rows
        return taken

    def _score_alone(self, pending: _Pending[TagT]) -> None:
        try:
            outputs = self._run(pending.inputs, pending.rows)
        except Exception as exc:  # noqa: BLE001  # the user-code boundary: the request fails
            if self._report is not None:
                self._report([pending.tag], pending.inputs, [pending.rows], None, exc)
            pending.future.set_exception(exc)
            return
        if self._report is not None:
            self._report([pending.tag], pending.inputs, [pending.rows], outputs, None)
        pending.future.set_result(outputs)

    def _run(self, inputs: Columns, rows: int) -> Columns:
        outputs = self._predict(inputs)
        for name, out in outputs.items():
            if len(out) != rows:
                raise ValueError(f"the model returned {len(out)} rows of {name!r} for {rows}")
        if self._observe is not None:
            self._observe(rows)
        return outputs


def _concatenate(parts: list[Columns]) -> Columns:
    """The requests' rows one after another; as one matrix when each request came as one."""
    if all(type(part) is MatrixColumns for part in parts):
        matrices: list[MatrixColumns] = parts  # type: ignore[assignment]  # checked above
        names = matrices[0].names
        if all(part.names == names for part in matrices[1:]):
            by_column = np.concatenate([part.matrix.T for part in matrices], axis=1)
            return MatrixColumns(names, by_column)
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}

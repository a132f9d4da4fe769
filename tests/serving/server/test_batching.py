"""Adaptive batching: requests that arrive together are scored in one call, each gets its own
rows back, a lone request never waits, and one bad request fails only itself."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from lockgate.serving.flavors.base import Columns
from lockgate.serving.protocol import MatrixColumns
from lockgate.serving.server.batching import AdaptiveBatcher


class Doubler:
    """Doubles `x`; refuses negative values, like a model that rejects some inputs."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def predict(self, inputs: Mapping[str, npt.NDArray[Any]]) -> Columns:
        x = inputs["x"]
        self.calls.append(len(x))
        if (x < 0).any():
            raise ValueError("negative input")
        return {"y": x * 2}


def _request(*values: float) -> Columns:
    return {"x": np.array(values, dtype=np.float64)}


async def _gather(batcher: AdaptiveBatcher[int], requests: list[Columns]) -> list[Any]:
    return await asyncio.gather(
        *(batcher.predict(r, len(r["x"]), n) for n, r in enumerate(requests)),
        return_exceptions=True,
    )


def test_requests_of_one_turn_are_scored_together_and_split_back() -> None:
    model = Doubler()
    batcher = AdaptiveBatcher(model.predict, max_batch_size=64, max_wait=0)
    requests = [_request(i, i + 0.5) for i in range(10)]

    results = asyncio.run(_gather(batcher, requests))

    assert model.calls == [20]
    for request, result in zip(requests, results, strict=True):
        np.testing.assert_array_equal(result["y"], request["x"] * 2)


def test_batches_never_exceed_the_maximum_rows() -> None:
    model = Doubler()
    observed: list[int] = []
    batcher = AdaptiveBatcher(model.predict, max_batch_size=8, max_wait=0, observe=observed.append)

    results = asyncio.run(_gather(batcher, [_request(i, i, i) for i in range(10)]))

    assert all(rows <= 8 for rows in model.calls)
    assert sum(model.calls) == 30
    assert observed == model.calls
    assert [float(r["y"][0]) for r in results] == [2.0 * i for i in range(10)]


def test_a_request_larger_than_the_maximum_is_scored_alone() -> None:
    model = Doubler()
    batcher = AdaptiveBatcher(model.predict, max_batch_size=4, max_wait=0)
    results = asyncio.run(_gather(batcher, [_request(*range(10)), _request(1)]))
    assert model.calls == [10, 1]
    assert len(results[0]["y"]) == 10


def test_a_failing_request_fails_alone() -> None:
    model = Doubler()
    batcher = AdaptiveBatcher(model.predict, max_batch_size=64, max_wait=0)

    good, bad, other = asyncio.run(_gather(batcher, [_request(1), _request(-1), _request(3)]))

    assert isinstance(bad, ValueError)
    np.testing.assert_array_equal(good["y"], [2.0])
    np.testing.assert_array_equal(other["y"], [6.0])


def test_a_model_that_returns_the_wrong_number_of_rows_fails_the_request() -> None:
    batcher = AdaptiveBatcher(lambda inputs: {"y": np.zeros(1)}, max_batch_size=8, max_wait=0)
    (result,) = asyncio.run(_gather(batcher, [_request(1, 2)]))
    assert isinstance(result, ValueError)
    assert "1 rows" in str(result)


def test_max_wait_holds_a_batch_open_for_later_requests() -> None:
    model = Doubler()
    batcher = AdaptiveBatcher(model.predict, max_batch_size=64, max_wait=0.05)

    async def staggered() -> list[Any]:
        first = asyncio.ensure_future(batcher.predict(_request(1), 1, 1))
        await asyncio.sleep(0)  # a later turn of the loop, within max_wait
        second = asyncio.ensure_future(batcher.predict(_request(2), 1, 2))
        return [await first, await second]

    asyncio.run(staggered())
    assert model.calls == [2]


def test_a_full_batch_does_not_wait() -> None:
    model = Doubler()
    batcher = AdaptiveBatcher(model.predict, max_batch_size=2, max_wait=60)

    async def two() -> None:
        await asyncio.wait_for(_gather(batcher, [_request(1), _request(2)]), timeout=5)

    asyncio.run(two())
    assert model.calls == [2]


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="max_batch_size"):
        AdaptiveBatcher(Doubler().predict, max_batch_size=0, max_wait=0)


def test_every_model_call_is_reported_with_its_requests_tags_rows_and_outcome() -> None:
    model = Doubler()
    reports: list[tuple[list[int], list[float], list[int], Any, Any]] = []

    def report(tags: list[int], inputs: Columns, rows: list[int], outputs: Any, error: Any) -> None:
        out = None if outputs is None else list(outputs["y"])
        reports.append((tags, list(inputs["x"]), rows, out, error))

    batcher = AdaptiveBatcher(model.predict, max_batch_size=64, max_wait=0, report=report)
    asyncio.run(_gather(batcher, [_request(1, 2), _request(3)]))
    asyncio.run(_gather(batcher, [_request(5), _request(-1)]))  # the batch fails: one by one

    assert reports[0] == ([0, 1], [1.0, 2.0, 3.0], [2, 1], [2.0, 4.0, 6.0], None)
    assert reports[1] == ([0], [5.0], [1], [10.0], None)
    tags, inputs, rows, outputs, error = reports[2]
    assert (tags, inputs, rows, outputs) == ([1], [-1.0], [1], None)
    assert isinstance(error, ValueError)
    assert len(reports) == 3


def test_requests_that_came_as_matrices_are_batched_as_one_matrix() -> None:
    seen: list[Columns] = []

    def predict(inputs: Mapping[str, npt.NDArray[Any]]) -> Columns:
        seen.append(dict(inputs) | {"matrix": getattr(inputs, "matrix", None)})  # type: ignore[dict-item]
        return {"y": inputs["a"] + inputs["b"]}

    batcher = AdaptiveBatcher(predict, max_batch_size=64, max_wait=0)
    first = MatrixColumns(["a", "b"], np.array([[1.0, 2.0], [10.0, 20.0]]))
    second = MatrixColumns(["a", "b"], np.array([[3.0], [30.0]]))

    async def both() -> list[Columns]:
        return list(
            await asyncio.gather(batcher.predict(first, 2, 0), batcher.predict(second, 1, 1))
        )

    results = asyncio.run(both())

    np.testing.assert_array_equal(seen[0]["matrix"], [[1, 10], [2, 20], [3, 30]])
    np.testing.assert_array_equal(seen[0]["a"], [1, 2, 3])
    np.testing.assert_array_equal(results[1]["y"], [33.0])

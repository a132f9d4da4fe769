"""Small predictors for the scoring tests: each computes something a test can check, and the
Spark tests ship them to executors by value."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from lockgate.domain.registry import ColumnSpec, Signature

Array = npt.NDArray[Any]

SIGNATURE = Signature(
    inputs=(
        ColumnSpec("a", "float64"),
        ColumnSpec("b", "float32"),
        ColumnSpec("v", "float32", (-1, 3)),
    ),
    outputs=(ColumnSpec("score", "float64"), ColumnSpec("doubled", "float32", (-1, 3))),
)
"""What `WeightedSum` takes and returns."""


class WeightedSum:
    """score = 2a + 3b + sum(v); doubled = 2v. Checks it got the signature's types."""

    def predict(self, inputs: Mapping[str, Array]) -> dict[str, Array]:
        a, b, v = inputs["a"], inputs["b"], inputs["v"]
        assert a.dtype == np.float64
        assert a.ndim == 1
        assert b.dtype == np.float32
        assert b.ndim == 1
        assert v.dtype == np.float32
        assert v.shape == (len(a), 3)
        return {"score": 2.0 * a + 3.0 * b + v.sum(axis=1), "doubled": v * 2}


def expected_scores(a: Array, b: Array, v: Array) -> Array:
    """What `WeightedSum` answers, computed the same way on whole columns."""
    scores: Array = 2.0 * a.astype(np.float64) + 3.0 * b.astype(np.float32) + v.sum(axis=1)
    return scores


@dataclass
class FailingAt:
    """Scores like `WeightedSum` until its `fail_at`-th call, which raises."""

    fail_at: int
    calls: int = 0

    def predict(self, inputs: Mapping[str, Array]) -> dict[str, Array]:
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("the model ran out of coffee")
        return WeightedSum().predict(inputs)


@dataclass
class Watching:
    """Scores like `WeightedSum` and watches what the engine keeps alive: at each call, how
    many of the arrays it was given or gave back earlier still exist, and how many bytes
    Arrow's memory pool holds."""

    seen: list[weakref.ref[Array]] = field(default_factory=list)
    most_alive: int = 0
    most_arrow_bytes: int = 0
    calls: int = 0

    def predict(self, inputs: Mapping[str, Array]) -> dict[str, Array]:
        self.calls += 1
        self.seen = [ref for ref in self.seen if ref() is not None]
        self.most_alive = max(self.most_alive, len(self.seen))
        self.most_arrow_bytes = max(self.most_arrow_bytes, pa.total_allocated_bytes())
        result = WeightedSum().predict(inputs)
        self.seen.extend(weakref.ref(array) for array in (*inputs.values(), *result.values()))
        return result


class Echo:
    """No signature: answers `total`, the sum of every numeric input column (tensors summed
    per row), and `rows`, a 2-D int64 answer."""

    def predict(self, inputs: Mapping[str, Array]) -> dict[str, Array]:
        n = len(next(iter(inputs.values())))
        total = np.zeros(n)
        for values in inputs.values():
            if values.dtype.kind in "iuf":
                total += values.reshape(n, -1).sum(axis=1)
        return {"total": total, "rows": np.tile(np.arange(2, dtype=np.int64), (n, 1))}

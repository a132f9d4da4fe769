"""Served models for the inference server's tests: small predictors over a signature."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy.typing as npt

from lockgate.domain.registry import ColumnSpec, Signature
from lockgate.serving.flavors.base import Columns
from lockgate.serving.server import ServedModel

FEATURES = ("age", "tenure", "spend")
SIGNATURE = Signature(
    inputs=tuple(ColumnSpec(name, "float64", (-1,)) for name in FEATURES),
    outputs=(ColumnSpec("score", "float64", (-1,)),),
)


class WeightedSum:
    """score = age + 10 * tenure + 100 * spend; refuses spend < 0 (a model that raises)."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def predict(self, inputs: Mapping[str, npt.NDArray[Any]]) -> Columns:
        if (inputs["spend"] < 0).any():
            raise ValueError("spend must not be negative")
        self.batches.append(len(inputs["age"]))
        return {"score": inputs["age"] + 10 * inputs["tenure"] + 100 * inputs["spend"]}


def served(name: str = "churn", version: int = 3) -> ServedModel:
    return ServedModel(name, version, "python", SIGNATURE, WeightedSum(), "0" * 64)

"""The array types the evaluation engine passes around (numpy, one dtype each), and weighted
counting typed as such."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "AnyArray",
    "BoolArray",
    "FloatArray",
    "IndexArray",
    "UIntArray",
    "WeightArray",
    "sum_by",
]

AnyArray: TypeAlias = npt.NDArray[Any]
"""A column as the caller gave it: any dtype."""
FloatArray: TypeAlias = npt.NDArray[np.float64]
IndexArray: TypeAlias = npt.NDArray[np.intp]
"""Row positions, unit numbers, bin and cell numbers, class indices."""
BoolArray: TypeAlias = npt.NDArray[np.bool_]
UIntArray: TypeAlias = npt.NDArray[np.uint64]
"""Score bit patterns and hashes."""
WeightArray: TypeAlias = npt.NDArray[np.uint8]
"""Poisson(1) resampling weights, one row per resample and one column per unit."""


def sum_by(labels: IndexArray, weights: FloatArray, count: int) -> FloatArray:
    """The sum of `weights` per label 0 .. count-1 (a weighted `np.bincount`)."""
    sums: FloatArray = np.bincount(labels, weights=weights, minlength=count).astype(
        np.float64, copy=False
    )
    return sums

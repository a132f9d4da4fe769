"""Resampling units and their seeded Poisson(1) weights: which unit a row (or a query) falls in,
and how many times each unit is drawn in each resample."""

from __future__ import annotations

import math

import numpy as np

from lockgate.compute.evaluation.arrays import IndexArray, UIntArray, WeightArray

__all__ = [
    "GROUP_UNITS",
    "UNITS",
    "WEIGHT_BLOCK",
    "assign_units",
    "poisson_weights",
]

UNITS = 2_048
"""Resampling units of the whole dataset (a power of two). The first `UNITS` rows (or queries)
each get their own unit, so up to that size the bootstrap is the exact Poisson bootstrap."""
GROUP_UNITS = 512
"""Units of a segment or a sensitive group: a row's unit modulo this (it divides `UNITS`)."""
WEIGHT_BLOCK = 256
"""Resamples evaluated together: the weight block is `WEIGHT_BLOCK x UNITS` float64 (4 MiB)."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_POISSON_CDF = np.cumsum([math.exp(-1.0) / math.factorial(k) for k in range(24)])


def _splitmix64(values: UIntArray) -> UIntArray:
    """The splitmix64 finalizer: a bijective mix of 64-bit integers (wrapping arithmetic)."""
    z = values + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def assign_units(start: int, count: int, seed: int) -> IndexArray:
    """The resampling unit of items `start .. start+count-1` (rows, or queries for ranking).

    Items below `UNITS` are their own unit; later items go to a unit chosen by a seeded hash of
    their global index, so the assignment depends on neither the batch sizes nor the order in
    which batches are cut.
    """
    index = np.arange(start, start + count, dtype=np.uint64)
    salt = _splitmix64(np.array([seed], dtype=np.uint64))[0]
    hashed = _splitmix64(index ^ salt) & np.uint64(UNITS - 1)
    units = np.where(index < UNITS, index, hashed)
    return units.astype(np.intp)


def poisson_weights(seed: int, resamples: int) -> WeightArray:
    """`resamples x UNITS` Poisson(1) draws from a generator seeded by `seed` alone, by inverse
    transform of uniforms (P(X > 23) is below 1e-23, so the table's tail is never reached)."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0x5EED])))
    weights = np.empty((resamples, UNITS), dtype=np.uint8)
    for start in range(0, resamples, WEIGHT_BLOCK):
        stop = min(resamples, start + WEIGHT_BLOCK)
        uniforms = rng.random((stop - start, UNITS))
        weights[start:stop] = np.searchsorted(_POISSON_CDF, uniforms, side="right")
    return weights

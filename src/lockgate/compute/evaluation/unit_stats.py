"""Per-unit additive statistics: a dense (units x cells) float64 matrix filled with
`np.bincount`, and its resampled totals as one matrix product per block of resamples."""

from __future__ import annotations

import numpy as np

from lockgate.compute.evaluation.arrays import FloatArray, IndexArray

__all__ = ["UnitStats"]

_SPARSE_RATIO = 16  # rows per cell below which `np.add.at` beats a dense `np.bincount`


class UnitStats:
    """Sums of per-row statistics by resampling unit and cell.

    Rows are added with their unit (taken modulo `capacity`, a power of two) and a cell; the
    matrix grows to the highest unit seen, so small data holds small matrices. A resample's
    totals are its weights times the matrix.
    """

    def __init__(self, capacity: int, width: int) -> None:
        self._capacity = capacity
        self._width = width
        self._data: FloatArray = np.zeros((0, width))

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    @property
    def width(self) -> int:
        return self._width

    def _rows_for(self, units: IndexArray) -> IndexArray:
        """The units modulo the capacity, growing the matrix to hold the largest."""
        local = units & (self._capacity - 1)
        needed = int(local.max()) + 1 if local.size else 0
        held = self._data.shape[0]
        if needed > held:
            grown = min(self._capacity, max(needed, 2 * held))
            data = np.zeros((grown, self._width))
            data[:held] = self._data
            self._data = data
        return local

    def add_counts(self, units: IndexArray, cells: IndexArray) -> None:
        """Add 1 to `(unit, cell)` for every row."""
        self.add_values(units, cells, None)

    def add_values(self, units: IndexArray, cells: IndexArray, values: FloatArray | None) -> None:
        """Add each row's value (or 1) to `(unit, cell)`."""
        local = self._rows_for(units)
        if not local.size:
            return
        flat = local * self._width + cells
        if _SPARSE_RATIO * flat.size < self._data.size:
            # Few rows for a large matrix: scatter them rather than count into a dense copy.
            np.add.at(self._data.reshape(-1), flat, 1.0 if values is None else values)
            return
        sums = np.bincount(flat, weights=values, minlength=self._data.size)
        self._data += sums.reshape(self._data.shape)

    def add_column(self, units: IndexArray, cell: int, values: FloatArray) -> None:
        """Add each row's value to `(unit, cell)` for one fixed cell."""
        local = self._rows_for(units)
        if not local.size:
            return
        self._data[:, cell] += np.bincount(local, weights=values, minlength=self._data.shape[0])

    def total(self) -> FloatArray:
        """The sums over all units, as one row (`1 x width`): the statistics of the data."""
        total: FloatArray = self._data.sum(axis=0, keepdims=True)
        return total

    def resample(self, weights: FloatArray) -> FloatArray:
        """The totals of each resample (`resamples x width`) under `resamples x capacity`
        unit weights."""
        rows = self._data.shape[0]
        if rows == 0:
            return np.zeros((weights.shape[0], self._width))
        result: FloatArray = weights[:, :rows] @ self._data
        return result
